// bridge_app.js — B2BUA calls end to end, run by tests/interop/test_bridge_app.sh
// with node --test: SIPp calls irisx (A leg), whose dialplan runs
// `bridge sofia/internal/<n>@127.0.0.1:<port>` towards a second SIPp acting
// as the called party (B leg, tests/interop/sipp/uas_*.xml), each with
// rtp_peer.py as its media sending its own tone. And `api originate … &echo`
// over the Event Socket (modesl) to such a called party.
//
// Environment: as common.js, plus BRIDGE_PREFIX (numbers PREFIX<port> bridge
// to 127.0.0.1:<port>), BRIDGE_TONE_A / BRIDGE_TONE_B (WAV files).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');
const c = require('./common');

let uasCount = 0;

// The called party: SIPp in server mode on a free port with `scenario`
// (uas_in_bye.xml, uas_out_bye.xml with opts.byeAfterMs, uas_busy.xml), and
// rtp_peer.py as its media. Returns { port, done } as startCall's.
async function startUas(scenario, opts = {})
{
	const dir = c.env('ESL_TEST_DIR');
	const name = `uas${process.pid}-${++uasCount}`;
	const base = path.join(dir, name);
	const peer = spawn('python3', [c.env('ESL_RTP_PEER'), 'run', '--port-file', `${base}.port`,
		'--out', `${base}.json`, '--remote-file', `${base}.remote`, '--duration', '40',
		...(opts.peerArgs || [])], { stdio: ['ignore', 'ignore', 'inherit'] });
	const peerPort = (await c.waitFile(`${base}.port`, 5000, peer)).trim();
	const port = await c.freePort(false);
	const cport = await c.freePort(false);
	const mport = await c.freePort(true);
	const pause = opts.byeAfterMs ? ['-d', String(opts.byeAfterMs)] : [];
	const sipp = spawn('timeout', ['-k', '5', '45', 'sipp', '-sf',
		path.join(c.env('ESL_SIPP_DIR'), scenario), ...pause, '-m', '1', '-timeout', '40s',
		'-timeout_error', '-nostdin', '-skip_rlimit', '-i', '127.0.0.1', '-p', String(port),
		'-cp', String(cport), '-mp', String(mport), '-set', 'peer_port', peerPort,
		'-set', 'remote_file', `${base}.remote`, '-trace_msg', '-message_file', `${base}.msg`,
		'-trace_err', '-error_file', `${base}.err`], { stdio: ['ignore', 'ignore', 'ignore'] });
	// SIPp listens once it has started: give it a moment.
	await new Promise((r) => setTimeout(r, 300));
	const done = (async () => {
		const status = await c.waitExit(sipp, 55000, `sipp ${name}`);
		peer.kill('SIGTERM');
		await c.waitExit(peer, 10000, `rtp_peer ${name}`);
		const read = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
		return { sipp: status, trace: read(`${base}.msg`), errors: read(`${base}.err`),
			 peer: `${base}.json` };
	})();
	done.kill = () => { sipp.kill('SIGTERM'); peer.kill('SIGTERM'); };
	return { port, done };
}

async function allEvents()
{
	const conn = await c.connect();
	const rec = c.recorder(conn);
	await new Promise((resolve) => conn.events('json', 'ALL', resolve));
	return { conn, rec };
}

const evOf = (uuid, n) => (e) => c.name(e) === n && e.getHeader('Unique-ID') === uuid;

async function heard(recording, from, to, wav)
{
	const r = await c.analyze(recording, ['--from', String(from), '--to', String(to),
					      '--pt', '0,8', '--ref', wav, '--ref-len', '1']);
	return { packets: Number(r.packets), corr: Number(r.corr) };
}

// The keys of a SIPp trace's messages: '<180', '>BYE', …
function keys(trace)
{
	return c.traceMessages(trace).map((m) => {
		const s = /^SIP\/2\.0 (\d{3})/.exec(m.text);
		return (m.dir === 'sent' ? '>' : '<') + (s ? s[1] : m.text.split(' ', 1)[0]);
	});
}

function bridgeNumber(port)
{
	return `${c.env('BRIDGE_PREFIX')}${port}`;
}

const kill = (...calls) => { for (const x of calls) if (x) x.done.kill(); };

test('bridge: B answers, each hears the other; A hangs up, B gets a BYE', async () => {
	const s = await allEvents();
	let a, b;
	try {
		b = await startUas('uas_in_bye.xml', { peerArgs: ['--send-wav', c.env('BRIDGE_TONE_B')] });
		const dest = bridgeNumber(b.port);
		a = await c.startCall(dest, { byeAfterMs: 7000,
					      peerArgs: ['--send-wav', c.env('BRIDGE_TONE_A')] });
		const br = await s.rec.wait((e) => c.name(e) === 'CHANNEL_BRIDGE' &&
			e.getHeader('Caller-Destination-Number') === dest, 15000, 'CHANNEL_BRIDGE');
		const t0 = Date.now() / 1000;
		const ua = br.getHeader('Bridge-A-Unique-ID'), ub = br.getHeader('Bridge-B-Unique-ID');
		assert.equal(br.getHeader('Unique-ID'), ua);
		assert.equal(br.getHeader('Other-Leg-Unique-ID'), ub);
		assert.equal(br.getHeader('Other-Leg-Logical-Direction'), 'outbound');

		const hcB = await s.rec.wait(evOf(ub, 'CHANNEL_HANGUP_COMPLETE'), 20000, 'B hangs up');
		assert.equal(hcB.getHeader('Hangup-Cause'), 'NORMAL_CLEARING');
		const hcA = await s.rec.wait(evOf(ua, 'CHANNEL_HANGUP_COMPLETE'), 5000, 'A hangs up');
		assert.equal(hcA.getHeader('variable_originate_disposition'), 'SUCCESS');
		const ra = await a.done, rb = await b.done;
		assert.equal(ra.sipp, 0, `SIPp A failed: ${ra.errors}`);
		assert.equal(rb.sipp, 0, `SIPp B failed: ${rb.errors}`);
		const ka = keys(ra.trace);
		assert.ok(ka.indexOf('<180') >= 0 && ka.indexOf('<180') < ka.indexOf('<200'),
			  `A heard B ring before the answer: ${ka.join(' ')}`);
		const reason = c.byeHeader(rb.trace, 'Reason');
		assert.match(reason || '', /^Q\.850\s*;\s*cause=16\b/i, `Reason: ${reason}`);

		const aHeard = await heard(ra.peer, t0 + 0.5, t0 + 3.5, c.env('BRIDGE_TONE_B'));
		const bHeard = await heard(rb.peer, t0 + 0.5, t0 + 3.5, c.env('BRIDGE_TONE_A'));
		assert.ok(aHeard.packets > 100 && aHeard.corr > 0.9, `A hears B: ${JSON.stringify(aHeard)}`);
		assert.ok(bHeard.packets > 100 && bHeard.corr > 0.9, `B hears A: ${JSON.stringify(bHeard)}`);
		a = b = null;
	} finally {
		kill(a, b);
		c.close(s.conn);
	}
});

test('bridge: B hangs up, A gets a BYE with its cause (hangup_after_bridge)', async () => {
	const s = await allEvents();
	let a, b;
	try {
		b = await startUas('uas_out_bye.xml', { byeAfterMs: 3000, peerArgs: ['--no-send'] });
		const dest = bridgeNumber(b.port);
		a = await c.startCall(dest, { peerArgs: ['--no-send'] });
		const br = await s.rec.wait((e) => c.name(e) === 'CHANNEL_BRIDGE' &&
			e.getHeader('Caller-Destination-Number') === dest, 15000, 'CHANNEL_BRIDGE');
		const ua = br.getHeader('Unique-ID');
		const hcA = await s.rec.wait(evOf(ua, 'CHANNEL_HANGUP_COMPLETE'), 20000, 'A hangs up');
		assert.equal(hcA.getHeader('Hangup-Cause'), 'NORMAL_CLEARING');
		assert.equal(hcA.getHeader('variable_bridge_hangup_cause'), 'NORMAL_CLEARING');
		const ra = await a.done, rb = await b.done;
		assert.equal(ra.sipp, 0, `SIPp A failed: ${ra.errors}`);
		assert.equal(rb.sipp, 0, `SIPp B failed: ${rb.errors}`);
		const reason = c.byeHeader(ra.trace, 'Reason');
		assert.match(reason || '', /^Q\.850\s*;\s*cause=16\b/i, `Reason: ${reason}`);
		a = b = null;
	} finally {
		kill(a, b);
		c.close(s.conn);
	}
});

test('bridge: B busy, A is refused 486 USER_BUSY with DIALSTATUS', async () => {
	const s = await allEvents();
	let a, b;
	try {
		b = await startUas('uas_busy.xml');
		const dest = bridgeNumber(b.port);
		a = await c.startCall(dest, { scenario: 'call_busy.xml', peerArgs: ['--no-send'] });
		const hc = await s.rec.wait((e) => c.name(e) === 'CHANNEL_HANGUP_COMPLETE' &&
			e.getHeader('Caller-Destination-Number') === dest &&
			e.getHeader('Call-Direction') === 'inbound', 20000, 'A hangs up');
		assert.equal(hc.getHeader('Hangup-Cause'), 'USER_BUSY');
		assert.equal(hc.getHeader('variable_originate_disposition'), 'USER_BUSY');
		assert.equal(hc.getHeader('variable_DIALSTATUS'), 'BUSY');
		const ra = await a.done, rb = await b.done;
		assert.equal(ra.sipp, 0, `SIPp A failed: ${ra.errors}`);
		assert.equal(rb.sipp, 0, `SIPp B failed: ${rb.errors}`);
		a = b = null;
	} finally {
		kill(a, b);
		c.close(s.conn);
	}
});

test('api originate … &echo: +OK <uuid>, the called party hears itself', async () => {
	const s = await allEvents();
	const other = await c.connect();
	let b;
	try {
		b = await startUas('uas_out_bye.xml', { byeAfterMs: 4000,
							peerArgs: ['--send-wav', c.env('BRIDGE_TONE_B')] });
		const reply = await c.api(s.conn, 'originate',
					  `{origination_caller_id_number=5550123}sofia/internal/9000@127.0.0.1:${b.port} &echo`);
		const m = /^\+OK ([0-9a-f-]{36})\n$/i.exec(reply);
		assert.ok(m, `originate: ${JSON.stringify(reply)}`);
		const uuid = m[1];
		const t0 = Date.now() / 1000;
		// another connection's commands were never held by it
		assert.match(await c.api(other, 'uuid_exists', uuid), /^true/);
		const hc = await s.rec.wait(evOf(uuid, 'CHANNEL_HANGUP_COMPLETE'), 20000, 'the leg ends');
		assert.equal(hc.getHeader('Call-Direction'), 'outbound');
		const rb = await b.done;
		assert.equal(rb.sipp, 0, `SIPp B failed: ${rb.errors}`);
		const inv = c.traceMessages(rb.trace).find((x) => x.dir === 'received' && /^INVITE /.test(x.text));
		assert.match(inv.text, /^From:.*5550123/im, 'the caller ID asked for');
		const echo = await heard(rb.peer, t0 + 0.5, t0 + 3, c.env('BRIDGE_TONE_B'));
		assert.ok(echo.packets > 80 && echo.corr > 0.9, `echo: ${JSON.stringify(echo)}`);
		b = null;

		// failures reply with the cause
		assert.equal(await c.api(s.conn, 'originate', 'error/USER_BUSY &echo'), '-ERR USER_BUSY\n');
		const busy = await startUas('uas_busy.xml');
		assert.equal(await c.api(s.conn, 'originate', `sofia/internal/9001@127.0.0.1:${busy.port} &echo`),
			     '-ERR USER_BUSY\n');
		assert.equal((await busy.done).sipp, 0);
	} finally {
		kill(b);
		c.close(other);
		c.close(s.conn);
	}
});

test('bridge: B\'s early media reaches A before B answers', async () => {
	const s = await allEvents();
	let a, b;
	try {
		b = await startUas('uas_early_in_bye.xml', { peerArgs: ['--send-wav', c.env('BRIDGE_TONE_B')] });
		const dest = bridgeNumber(b.port);
		a = await c.startCall(dest, { byeAfterMs: 5000, peerArgs: ['--no-send'] });
		const br = await s.rec.wait((e) => c.name(e) === 'CHANNEL_BRIDGE' &&
			e.getHeader('Caller-Destination-Number') === dest, 15000, 'CHANNEL_BRIDGE');
		const tBridge = Date.now() / 1000;
		const ub = br.getHeader('Bridge-B-Unique-ID');
		assert.equal(br.getHeader('Answer-State'), 'early', 'A is pre-answered, not answered');
		await s.rec.wait(evOf(ub, 'CHANNEL_ANSWER'), 10000, 'B answers');
		const tAnswer = Date.now() / 1000;
		assert.ok(tAnswer - tBridge > 1.5, `bridged ${tAnswer - tBridge} s before B answered`);
		const ra = await a.done, rb = await b.done;
		assert.equal(ra.sipp, 0, `SIPp A failed: ${ra.errors}`);
		assert.equal(rb.sipp, 0, `SIPp B failed: ${rb.errors}`);
		const ka = keys(ra.trace);
		assert.ok(ka.indexOf('<183') >= 0 && ka.indexOf('<183') < ka.indexOf('<200'),
			  `A got early media before the answer: ${ka.join(' ')}`);
		const early = await heard(ra.peer, tBridge + 0.3, tAnswer - 0.2, c.env('BRIDGE_TONE_B'));
		assert.ok(early.packets > 50 && early.corr > 0.9, `early media at A: ${JSON.stringify(early)}`);
		const reason = c.byeHeader(rb.trace, 'Reason');
		assert.match(reason || '', /^Q\.850\s*;\s*cause=16\b/i, `Reason: ${reason}`);
		a = b = null;
	} finally {
		kill(a, b);
		c.close(s.conn);
	}
});

// A raw Event Socket connection, to see exactly what comes when.
async function rawConn()
{
	const sock = net.connect(c.eslPort(), c.HOST);
	const st = { sock, buf: '', frames: [] };
	sock.setEncoding('utf8');
	sock.on('data', (d) => {
		st.buf += d;
		for (;;) {
			const end = st.buf.indexOf('\n\n');
			if (end < 0) return;
			const head = st.buf.slice(0, end + 1);
			const m = /^Content-Length: (\d+)$/m.exec(head);
			const len = m ? Number(m[1]) : 0;
			if (st.buf.length < end + 2 + len) return;
			st.frames.push({ head, body: st.buf.slice(end + 2, end + 2 + len), at: Date.now() });
			st.buf = st.buf.slice(end + 2 + len);
		}
	});
	st.next = (ms, what) => c.withTimeout((async () => {
		while (!st.frames.length) await new Promise((r) => setTimeout(r, 20));
		return st.frames.shift();
	})(), ms, what);
	assert.match((await st.next(5000, 'auth/request')).head, /auth\/request/);
	sock.write(`auth ${c.env('ESL_PASSWORD')}\n\n`);
	assert.match((await st.next(5000, 'auth reply')).head, /\+OK accepted/);
	return st;
}

test('api originate holds that connection\'s later replies only; a connection gone meanwhile', async () => {
	const s = await allEvents();
	let b, b2, raw, raw2;
	const uuids = [];
	try {
		b = await startUas('uas_slow_in_bye.xml');
		raw = await rawConn();
		const t0 = Date.now();
		raw.sock.write(`api originate sofia/internal/9002@127.0.0.1:${b.port} &park\n\napi uptime s\n\n`);
		// B rings for 2.5 s: another connection is served meanwhile, this one waits
		assert.match(await c.api(s.conn, 'status'), /^UP /);
		await new Promise((r) => setTimeout(r, 500));
		assert.equal(raw.frames.length, 0, 'nothing before the originate replies');
		const first = await raw.next(15000, 'the originate reply');
		const second = await raw.next(5000, 'the uptime reply');
		const m = /^\+OK ([0-9a-f-]{36})\n$/i.exec(first.body);
		assert.ok(m, `originate: ${JSON.stringify(first.body)}`);
		uuids.push(m[1]);
		assert.ok(first.at - t0 >= 2000, `the originate replied after ${first.at - t0} ms`);
		assert.match(second.body, /^\d+\n?$/, `uptime: ${JSON.stringify(second.body)}`);
		assert.ok(second.at >= first.at, 'in order');
		assert.match(await c.api(s.conn, 'uuid_kill', m[1]), /^\+OK/);
		assert.equal((await b.done).sipp, 0, 'B ended by the kill');
		b = null;

		// The connection closes while its originate waits: the call still
		// completes (and irisx, under ASan too, survives the late reply).
		b2 = await startUas('uas_slow_in_bye.xml');
		raw2 = await rawConn();
		raw2.sock.write(`api originate sofia/internal/9003@127.0.0.1:${b2.port} &park\n\n`);
		await new Promise((r) => setTimeout(r, 300));
		raw2.sock.destroy();
		raw2 = null;
		const ans = await s.rec.wait((e) => c.name(e) === 'CHANNEL_ANSWER' &&
			e.getHeader('Caller-Destination-Number') === '9003', 15000, 'the orphan originate answers');
		uuids.push(ans.getHeader('Unique-ID'));
		assert.match(await c.api(s.conn, 'uuid_kill', ans.getHeader('Unique-ID')), /^\+OK/);
		assert.equal((await b2.done).sipp, 0, 'B2 ended by the kill');
		b2 = null;
		assert.match(await c.api(s.conn, 'status'), /^UP /);
	} finally {
		for (const u of uuids) await c.api(s.conn, 'uuid_kill', u).catch(() => {});
		kill(b, b2);
		if (raw) raw.sock.destroy();
		if (raw2) raw2.sock.destroy();
		c.close(s.conn);
	}
});

test('bridge: A cancels while B rings, B is cancelled ORIGINATOR_CANCEL', async () => {
	const s = await allEvents();
	let a, b;
	try {
		b = await startUas('uas_cancelled.xml');
		const dest = bridgeNumber(b.port);
		a = await c.startCall(dest, { scenario: 'call_cancel.xml', pauseMs: 1000,
					      peerArgs: ['--no-send'] });
		const hcA = await s.rec.wait((e) => c.name(e) === 'CHANNEL_HANGUP_COMPLETE' &&
			e.getHeader('Caller-Destination-Number') === dest &&
			e.getHeader('Call-Direction') === 'inbound', 20000, 'A hangs up');
		assert.equal(hcA.getHeader('Hangup-Cause'), 'ORIGINATOR_CANCEL');
		const hcB = await s.rec.wait((e) => c.name(e) === 'CHANNEL_HANGUP_COMPLETE' &&
			e.getHeader('Call-Direction') === 'outbound' &&
			e.getHeader('Other-Leg-Unique-ID') === hcA.getHeader('Unique-ID'), 10000, 'B hangs up');
		assert.equal(hcB.getHeader('Hangup-Cause'), 'ORIGINATOR_CANCEL');
		const ra = await a.done, rb = await b.done;
		assert.equal(ra.sipp, 0, `SIPp A failed: ${ra.errors}`);
		assert.equal(rb.sipp, 0, `SIPp B failed: ${rb.errors}`);
		const cancel = c.traceMessages(rb.trace).find((m) => m.dir === 'received' && /^CANCEL /.test(m.text));
		assert.ok(cancel, 'B received a CANCEL');
		assert.match(cancel.text, /^Reason:.*cause=487/im, 'with ORIGINATOR_CANCEL as its Reason');
		a = b = null;
	} finally {
		kill(a, b);
		c.close(s.conn);
	}
});
