// bench_client.js — the Event Socket side of bench/run_esl.sh (not a test:
// node --test only runs *.test.js). Prints "key=value" lines.
//
//   node bench_client.js flood COUNT
//     One modesl client subscribes to ALL (json); a second connection fires
//     COUNT CUSTOM events with `sendevent`, pipelined (a window of commands
//     awaiting their +OK). Reports the rate the subscriber received them at
//     and how many were lost or out of order. Gives up after 120 s.
//   node bench_client.js watch CLIENTS STOPFILE
//     CLIENTS modesl clients subscribe to ALL (json) and count channel events
//     until STOPFILE exists (or 600 s pass), then wait 2 s for the stragglers
//     and report per-client counts of CHANNEL_CREATE and
//     CHANNEL_HANGUP_COMPLETE (distinct Unique-IDs): min and max over clients.
//
// Environment: ESL_PORT, ESL_PASSWORD (ESL_HOST, default 127.0.0.1).
'use strict';

const fs = require('node:fs');
const net = require('node:net');
const crypto = require('node:crypto');
const c = require('./common');

const SUB = 'irisx::bench';

function out(k, v)
{
	process.stdout.write(`${k}=${v}\n`);
}

async function subscribedAll()
{
	const conn = await c.connect();
	await c.withTimeout(new Promise((resolve) => conn.events('json', 'ALL', resolve)), 5000,
			    'event json ALL');
	return conn;
}

// A raw producer: authenticates, then writes sendevent commands keeping at
// most `window` unanswered. Resolves when every reply is in.
function produce(count, run, window, received, ahead)
{
	return new Promise((resolve, reject) => {
		const sock = net.connect({ host: c.HOST, port: c.eslPort() });
		let buf = '';
		let authed = false;
		let sent = 0;
		let replies = 0;
		let errors = 0;
		const pump = () => {
			let chunk = '';
			while (sent < count && sent - replies < window && sent - received() < ahead) {
				chunk += `sendevent CUSTOM\nEvent-Name: CUSTOM\nEvent-Subclass: ${SUB}\n` +
					`X-Bench-Run: ${run}\nX-Bench-N: ${sent}\n\n`;
				sent++;
			}
			if (chunk) sock.write(chunk);
		};
		sock.on('error', reject);
		sock.on('data', (d) => {
			buf += d;
			let i;
			while ((i = buf.indexOf('\n\n')) >= 0) {
				const head = buf.slice(0, i);
				buf = buf.slice(i + 2);
				if (/Content-Length:/i.test(head)) {
					// No command answered here carries a body.
					reject(new Error(`unexpected message with a body: ${head}`));
					return;
				}
				if (!authed) {
					if (/auth\/request/.test(head)) {
						sock.write(`auth ${c.env('ESL_PASSWORD')}\n\n`);
					} else if (/Reply-Text: \+OK/.test(head)) {
						authed = true;
						pump();
					} else {
						reject(new Error(`auth: ${head}`));
						return;
					}
					continue;
				}
				replies++;
				if (!/Reply-Text: \+OK/.test(head)) errors++;
				if (replies === count) {
					clearInterval(kick);
					sock.end(`exit\n\n`);
					resolve({ errors });
					return;
				}
				pump();
			}
		});
		// The subscriber's progress, not only the replies, opens the window.
		const kick = setInterval(() => authed && pump(), 5);
	});
}

async function flood(count)
{
	const run = crypto.randomUUID();
	const conn = await subscribedAll();
	let got = 0;
	let disorder = 0;
	let next = 0;
	let first = 0;
	let last = 0;
	let finish;
	const all = new Promise((resolve) => { finish = resolve; });
	conn.on('esl::event::**', (evt) => {
		if (evt.getHeader('Event-Name') !== 'CUSTOM') return;
		if (evt.getHeader('Event-Subclass') !== SUB || evt.getHeader('X-Bench-Run') !== run) return;
		const n = Number(evt.getHeader('X-Bench-N'));
		if (n !== next) disorder++;
		next = n + 1;
		got++;
		last = process.hrtime.bigint();
		if (got === 1) first = last;
		if (n === count - 1) finish();
	});
	const t0 = process.hrtime.bigint();
	// At most `ahead` events fired and not yet received: the subscriber's
	// queue in irisx (10,000 by default) never overflows, so the rate is
	// what irisx sustains to one client with none lost.
	const prod = await c.withTimeout(produce(count, run, 2000, () => got, 4000), 120000,
					 'sendevent flood');
	const tSent = process.hrtime.bigint();
	// Let the subscriber drain: the last event, or 10 s without progress.
	let seen = -1;
	while (got < count && got !== seen) {
		seen = got;
		await Promise.race([all, new Promise((r) => setTimeout(r, 10000))]);
	}
	const secs = (a, b) => Number(b - a) / 1e9;
	out('events_sent', count);
	out('events_send_errors', prod.errors);
	out('events_received', got);
	out('events_lost', count - got);
	out('events_out_of_order', disorder);
	out('send_per_s', (count / secs(t0, tSent)).toFixed(0));
	out('delivered_per_s', got ? (got / secs(t0, last)).toFixed(0) : 0);
	out('first_to_last_s', got ? secs(first, last).toFixed(3) : 0);
	c.close(conn);
}

async function watch(clients, stopfile)
{
	const counts = [];
	const conns = [];
	for (let i = 0; i < clients; i++) {
		const conn = await subscribedAll();
		const k = { create: new Set(), complete: new Set(), events: 0, dropped: 0 };
		conn.on('esl::event::**', (evt, headers) => {
			if (!headers || headers['Content-Type'] !== 'text/event-json') return;
			k.events++;
			const name = evt.getHeader('Event-Name');
			if (name === 'CHANNEL_CREATE') k.create.add(evt.getHeader('Unique-ID'));
			else if (name === 'CHANNEL_HANGUP_COMPLETE') k.complete.add(evt.getHeader('Unique-ID'));
			// irisx says so when a subscriber's queue overflowed.
			else if (evt.getHeader('Event-Subclass') === 'irisx::events_dropped')
				k.dropped += Number(evt.getHeader('Dropped-Count')) || 0;
		});
		conn.on('esl::end', () => { k.ended = true; });
		counts.push(k);
		conns.push(conn);
	}
	out('clients_ready', clients);
	// The shell waits for this file before it starts the calls.
	fs.writeFileSync(`${stopfile}.ready`, '');
	const end = Date.now() + 600000;
	while (!fs.existsSync(stopfile) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
	// The clients may still be reading their backlog: wait until 3 s pass
	// without an event (60 s at most).
	let total = -1;
	const quietEnd = Date.now() + 60000;
	while (Date.now() < quietEnd) {
		const now = counts.reduce((n, k) => n + k.events, 0);
		if (now === total) break;
		total = now;
		await new Promise((r) => setTimeout(r, 3000));
	}
	const stat = (f) => {
		const v = counts.map(f);
		return `${Math.min(...v)} ${Math.max(...v)}`;
	};
	out('create_min_max', stat((k) => k.create.size));
	out('hangup_complete_min_max', stat((k) => k.complete.size));
	out('events_min_max', stat((k) => k.events));
	out('clients_disconnected', counts.filter((k) => k.ended).length);
	out('dropped_notified', counts.reduce((n, k) => n + k.dropped, 0));
	for (const conn of conns) c.close(conn);
}

(async () => {
	const [mode, a, b] = process.argv.slice(2);
	if (mode === 'flood' && Number(a) > 0) await flood(Math.min(Number(a), 2000000));
	else if (mode === 'watch' && Number(a) > 0 && b) await watch(Math.min(Number(a), 1000), b);
	else throw new Error('usage: bench_client.js flood COUNT | watch CLIENTS STOPFILE');
	process.exit(0);
})().catch((e) => {
	process.stderr.write(`bench_client: ${e.stack || e}\n`);
	process.exit(1);
});
