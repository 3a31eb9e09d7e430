// bench_ws.js — the WebSocket side of bench/run_http_events.sh (not a test).
// Prints "key=value" lines.
//
//   node bench_ws.js COUNT
//     A `ws` client subscribes to GET /v1/events?events=irisx::bench; a raw
//     Event Socket connection fires COUNT CUSTOM irisx::bench events with
//     pipelined `sendevent`, never more than AHEAD ahead of what the client
//     received (irisx's per-client queue holds 10,000). Reports the rate the
//     WebSocket client received them at (from its first to its last), and how
//     many were lost or out of order. Gives up after 120 s.
//
// Environment: HTTP_PORT, HTTP_TOKEN, ESL_PORT, ESL_PASSWORD.
'use strict';

const net = require('node:net');
const WebSocket = require('ws');

const env = (n) => {
	const v = process.env[n];
	if (!v) throw new Error(`${n} is not set`);
	return v;
};
const count = Number(process.argv[2] || 100000);
const AHEAD = 4000;
const WINDOW = 500;
const run = `${process.pid}-${Date.now()}`;

function out(k, v)
{
	process.stdout.write(`${k}=${v}\n`);
}

let received = 0;
let disorder = 0;
let last = -1;
let first = 0n;
let lastAt = 0n;
let pump = () => {};

const ws = new WebSocket(`ws://127.0.0.1:${env('HTTP_PORT')}/v1/events?events=irisx::bench`,
			 { headers: { Authorization: `Bearer ${env('HTTP_TOKEN')}` } });
const timer = setTimeout(() => finish('timeout'), 120000);

function finish(why)
{
	clearTimeout(timer);
	const secs = Number(lastAt - first) / 1e9;
	out('events_sent', count);
	out('events_received', received);
	out('events_lost', count - received);
	out('events_out_of_order', disorder);
	out('seconds', secs.toFixed(3));
	out('received_per_s', secs > 0 ? Math.round((received - 1) / secs) : 0);
	out('end', why);
	process.exit(received === count && disorder === 0 ? 0 : 1);
}

ws.on('error', (e) => { console.error(`websocket: ${e.message}`); process.exit(3); });
ws.on('unexpected-response', (q, r) => { console.error(`websocket: ${r.statusCode}`); process.exit(3); });
ws.on('message', (data) => {
	const ev = JSON.parse(data.toString('utf8'));
	if (ev['X-Bench-Run'] !== run)
		return;
	const n = Number(ev['X-Bench-N']);
	if (received === 0)
		first = process.hrtime.bigint();
	lastAt = process.hrtime.bigint();
	if (n <= last)
		disorder++;
	last = n;
	received++;
	if (received === count)
		finish('done');
	else
		pump();
});
ws.on('open', produce);

function produce()
{
	const sock = net.connect({ host: '127.0.0.1', port: Number(env('ESL_PORT')) });
	let buf = '';
	let authed = false;
	let sent = 0;
	let replies = 0;
	pump = () => {
		if (!authed)
			return;
		let chunk = '';
		while (sent < count && sent - replies < WINDOW && sent - received < AHEAD) {
			chunk += `sendevent CUSTOM\nEvent-Name: CUSTOM\nEvent-Subclass: irisx::bench\n` +
				`X-Bench-Run: ${run}\nX-Bench-N: ${sent}\n\n`;
			sent++;
		}
		if (chunk)
			sock.write(chunk);
	};
	sock.on('error', (e) => { console.error(`esl: ${e.message}`); process.exit(4); });
	sock.on('data', (d) => {
		buf += d;
		let i;
		while ((i = buf.indexOf('\n\n')) >= 0) {
			const head = buf.slice(0, i);
			buf = buf.slice(i + 2);
			if (!authed) {
				if (/auth\/request/.test(head)) {
					sock.write(`auth ${env('ESL_PASSWORD')}\n\n`);
				} else if (/Reply-Text: \+OK/.test(head)) {
					authed = true;
					pump();
				} else {
					console.error(`esl auth: ${head}`);
					process.exit(4);
				}
				continue;
			}
			replies++;
		}
		pump();
	});
}
