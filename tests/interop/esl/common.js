// common.js — helpers shared by irisx's Event Socket tests with the modesl
// client (tests/interop/esl/*.test.js, run by tests/interop/test_esl_modesl.sh).
//
// Everything goes through modesl's own Connection, as an application using
// FreeSWITCH's Event Socket would: no raw socket writes except where a test
// needs to see exactly what the server sends. Calls are made with SIPp
// (tests/interop/sipp/media_call_in_bye.xml) with rtp_peer.py as the caller's
// media, the same pair the shell tests use.
//
// Environment (set by test_esl_modesl.sh): ESL_HOST, ESL_PORT, ESL_PASSWORD;
// for calls IRISX_IP, IRISX_EXT_PORT, ESL_TEST_DIR (a scratch dir),
// ESL_SIPP_DIR (the scenarios), ESL_RTP_PEER (rtp_peer.py), ESL_PARK_PREFIX
// (numbers PREFIX.. answer and park), ESL_WELCOME_WAV.
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const dgram = require('node:dgram');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const esl = require('modesl');

const env = (name) => {
	const v = process.env[name];
	if (v === undefined || v === '') throw new Error(`${name} is not set (run through test_esl_modesl.sh)`);
	return v;
};

const HOST = process.env.ESL_HOST || '127.0.0.1';

function eslPort()
{
	return Number(env('ESL_PORT'));
}

// Rejects after `ms` with `what` in the message, so a hung server fails the
// test with a reason instead of the runner's generic timeout.
function withTimeout(promise, ms, what)
{
	let timer;
	return Promise.race([
		promise,
		new Promise((_, reject) => {
			timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
		}),
	]).finally(() => clearTimeout(timer));
}

// A modesl inbound connection. Resolves once auth is accepted (modesl's
// esl::ready); rejects on auth failure, a socket error or an early close.
function connect(password = env('ESL_PASSWORD'), port = eslPort())
{
	return withTimeout(new Promise((resolve, reject) => {
		const conn = new esl.Connection(HOST, port, password, () => resolve(conn));
		conn.on('esl::event::auth::fail', (evt) => {
			const err = new Error(`auth refused: ${evt.getHeader('Reply-Text')}`);
			err.reply = evt.getHeader('Reply-Text');
			err.conn = conn;
			reject(err);
		});
		conn.on('error', reject);
		conn.on('esl::end', () => reject(new Error('the server closed the connection before auth')));
	}), 5000, 'ESL connect and auth');
}

function close(conn)
{
	if (!conn) return;
	try {
		if (conn.socket) conn.disconnect();
	} catch (_) {
		// Already gone: nothing to close.
	}
}

// api CMD ARGS: the api/response body.
function api(conn, cmd, args = '')
{
	return withTimeout(new Promise((resolve) => conn.api(cmd, args, (evt) => resolve(evt.getBody()))),
			   10000, `api ${cmd} ${args}`);
}

// A command with a command/reply: its Reply-Text.
function command(conn, line, headers)
{
	return withTimeout(new Promise((resolve) => conn.sendRecv(line, headers || null,
			(evt) => resolve(evt.getHeader('Reply-Text')))), 5000, line);
}

// Every event (any format) the connection receives from now on, in order.
function recorder(conn)
{
	const seen = [];
	const waiters = [];
	conn.on('esl::event::**', function (evt, headers) {
		const ct = headers && headers['Content-Type'];
		if (ct !== 'text/event-json' && ct !== 'text/event-plain' && ct !== 'text/event-xml') return;
		evt.contentType = ct;
		seen.push(evt);
		for (let i = waiters.length - 1; i >= 0; i--) {
			if (waiters[i].pred(evt)) {
				waiters[i].resolve(evt);
				waiters.splice(i, 1);
			}
		}
	});
	return {
		seen,
		// The first event (already seen or still to come) matching pred.
		wait(pred, ms, what)
		{
			const hit = seen.find(pred);
			if (hit) return Promise.resolve(hit);
			return withTimeout(new Promise((resolve) => waiters.push({ pred, resolve })), ms, what);
		},
	};
}

const name = (evt) => evt.getHeader('Event-Name');
const seq = (evt) => Number(evt.getHeader('Event-Sequence'));

// Fires a CUSTOM event with subclass `sub` and the given headers through
// `sendevent` (what FreeSWITCH's clients use to inject events).
function sendCustom(conn, sub, headers)
{
	let text = `sendevent CUSTOM\nEvent-Name: CUSTOM\nEvent-Subclass: ${sub}`;
	for (const [k, v] of Object.entries(headers)) text += `\n${k}: ${v}`;
	return command(conn, text);
}

// ---------------------------------------------------------------------------
// Calls: SIPp + rtp_peer.py
// ---------------------------------------------------------------------------

function bindable(port, type)
{
	return new Promise((resolve) => {
		if (type === 'tcp') {
			const s = net.createServer();
			s.once('error', () => resolve(false));
			s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
		} else {
			const s = dgram.createSocket('udp4');
			s.once('error', () => { s.close(); resolve(false); });
			s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
		}
	});
}

// A port free for UDP and TCP (and P+2 for UDP when pair): SIPp's signalling,
// control and media ports. From the range lib.sh's ports_pick uses.
async function freePort(pair)
{
	for (let i = 0; i < 500; i++) {
		const p = 20000 + 2 * Math.floor(Math.random() * 5990);
		if (!(await bindable(p, 'udp')) || !(await bindable(p, 'tcp'))) continue;
		if (pair && !(await bindable(p + 2, 'udp'))) continue;
		return p;
	}
	throw new Error('no free port on 127.0.0.1');
}

function waitExit(child, ms, what)
{
	return withTimeout(new Promise((resolve) => {
		if (child.exitCode !== null) return resolve(child.exitCode);
		child.once('exit', (code, signal) => resolve(code === null ? signal : code));
	}), ms, what);
}

async function waitFile(file, ms, child)
{
	const end = Date.now() + ms;
	while (Date.now() < end) {
		if (fs.existsSync(file) && fs.statSync(file).size > 0) return fs.readFileSync(file, 'utf8');
		if (child && child.exitCode !== null) break;
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new Error(`${file} did not appear within ${ms} ms`);
}

let callCount = 0;

// Places a call from SIPp to irisx's external profile for number `dest`,
// with rtp_peer.py as the caller's media. SIPp waits for irisx's BYE (the
// scenario answers it 200), or with opts.byeAfterMs hangs up itself that
// long after its ACK; opts.scenario names another scenario of ESL_SIPP_DIR
// (opts.pauseMs: its -d pause).
// opts.peerArgs go to rtp_peer.py run (--send-wav …).
// Returns { name, done } where done resolves to
// { sipp: exit status, trace: SIPp's message trace, peer: recording path }
// once the call is over and the peer has written its recording.
async function startCall(dest, opts = {})
{
	const dir = env('ESL_TEST_DIR');
	const name = `call${process.pid}-${++callCount}`;
	const base = path.join(dir, name);
	const peerArgs = [env('ESL_RTP_PEER'), 'run', '--port-file', `${base}.port`, '--out',
			  `${base}.json`, '--remote-file', `${base}.remote`, '--duration',
			  String(opts.peerSeconds || 40), ...(opts.peerArgs || [])];
	const scenario = opts.scenario ||
		(opts.byeAfterMs ? 'media_call_out_bye.xml' : 'media_call_in_bye.xml');
	const pauseMs = opts.byeAfterMs || opts.pauseMs;
	const pause = pauseMs ? ['-d', String(pauseMs)] : [];
	const peer = spawn('python3', peerArgs, { stdio: ['ignore', 'ignore', 'inherit'] });
	const peerPort = (await waitFile(`${base}.port`, 5000, peer)).trim();
	const lport = await freePort(false);
	const cport = await freePort(false);
	const mport = await freePort(true);
	const target = `${env('IRISX_IP')}:${env('IRISX_EXT_PORT')}`;
	const sipp = spawn('timeout', ['-k', '5', String(opts.sippSeconds || 45), 'sipp', target,
		'-sf', path.join(env('ESL_SIPP_DIR'), scenario), ...pause, '-s', dest, '-m', '1',
		'-timeout', `${opts.sippSeconds || 40}s`, '-timeout_error', '-nostdin', '-skip_rlimit',
		'-i', '127.0.0.1', '-p', String(lport), '-cp', String(cport), '-mp', String(mport),
		'-set', 'peer_port', peerPort, '-set', 'offer', '0 8 101', '-set', 'remote_file',
		`${base}.remote`, '-trace_msg', '-message_file', `${base}.msg`, '-trace_err',
		'-error_file', `${base}.err`], { stdio: ['ignore', 'ignore', 'ignore'] });
	const done = (async () => {
		const status = await waitExit(sipp, ((opts.sippSeconds || 45) + 10) * 1000, `sipp ${name}`);
		peer.kill('SIGTERM');
		await waitExit(peer, 10000, `rtp_peer ${name}`);
		const read = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
		return { sipp: status, trace: read(`${base}.msg`), errors: read(`${base}.err`),
			 peer: `${base}.json` };
	})();
	// A test that fails before the call ends must not leave SIPp behind.
	done.kill = () => { sipp.kill('SIGTERM'); peer.kill('SIGTERM'); };
	return { name, done };
}

// The SIP messages of a SIPp -trace_msg file: [{ dir: 'sent'|'received', text }].
function traceMessages(trace)
{
	const out = [];
	for (const block of trace.split(/^-{20,} [^\n]*\n/m)) {
		const m = /^(UDP|TCP) message (sent|received)[^\n]*\n\n/.exec(block);
		if (m) out.push({ dir: m[2], text: block.slice(m[0].length) });
	}
	return out;
}

// The value of header `hdr` in the BYE irisx sent (received by SIPp), or null.
function byeHeader(trace, hdr)
{
	const bye = traceMessages(trace).find((m) => m.dir === 'received' && /^BYE /.test(m.text));
	assert.ok(bye, 'SIPp received no BYE from irisx');
	const re = new RegExp(`^${hdr}\\s*:\\s*(.*?)\\s*$`, 'im');
	const m = re.exec(bye.text.split(/\r?\n\r?\n/)[0]);
	return m ? m[1] : null;
}

// rtp_peer.py analyze RECORDING ARGS: its key=value figures.
function analyze(recording, args)
{
	return new Promise((resolve, reject) => {
		const p = spawn('python3', [env('ESL_RTP_PEER'), 'analyze', recording, ...args],
				{ stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		let err = '';
		p.stdout.on('data', (d) => { out += d; });
		p.stderr.on('data', (d) => { err += d; });
		p.on('exit', (code) => {
			if (code !== 0) return reject(new Error(`rtp_peer analyze failed: ${err}`));
			const r = {};
			for (const line of out.split('\n')) {
				const i = line.indexOf('=');
				if (i > 0) r[line.slice(0, i)] = line.slice(i + 1);
			}
			resolve(r);
		});
	});
}

// A number that the test conf routes to "answer, park".
function parkNumber(n)
{
	return `${env('ESL_PARK_PREFIX')}${String(n).padStart(2, '0')}`;
}

// Waits for CHANNEL_ANSWER of the call to `dest` and returns its Unique-ID.
async function answeredUuid(rec, dest)
{
	const evt = await rec.wait((e) => name(e) === 'CHANNEL_ANSWER' &&
				   e.getHeader('Caller-Destination-Number') === dest, 15000,
				   `CHANNEL_ANSWER for ${dest}`);
	const uuid = evt.getHeader('Unique-ID');
	assert.match(uuid || '', /^[0-9a-f-]{36}$/i, 'CHANNEL_ANSWER has a Unique-ID');
	return uuid;
}

module.exports = {
	HOST, eslPort, env, withTimeout, connect, close, api, command, recorder, name, seq,
	sendCustom, startCall, traceMessages, byeHeader, analyze, parkNumber, answeredUuid,
	freePort, waitExit, waitFile,
};
