// outbound.test.js — the Event Socket's outbound mode: irisx's `socket`
// application connects to modesl's esl.Server for a SIPp call (numbers
// ESL_OUTBOUND_PREFIX.. in the test's dialplan: set, socket
// 127.0.0.1:ESL_OUTBOUND_PORT async full, set). The server gets the
// channel's data, drives the call (answer, playback, hangup) and sees the
// channel's events and the disconnect notice; or it leaves with `exit` and
// the dialplan goes on with the next action.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const esl = require('modesl');
const c = require('./common');

const PORT = Number(c.env('ESL_OUTBOUND_PORT'));
const PREFIX = c.env('ESL_OUTBOUND_PREFIX');

// A modesl outbound server; resolves with the first connection, ready
// (connected and subscribed to its own channel's events with myevents).
function serve()
{
	let server;
	const listening = new Promise((resolve) => {
		server = new esl.Server({ port: PORT, host: '127.0.0.1', myevents: true }, resolve);
	});
	const conn = new Promise((resolve) => server.once('connection::ready', (cn) => resolve(cn)));
	return { server, listening, conn };
}

function execute(conn, app, arg)
{
	return c.withTimeout(new Promise((resolve) => conn.execute(app, arg, resolve)), 20000,
			     `execute ${app} ${arg}`);
}

function ended(conn)
{
	return new Promise((resolve) => {
		if (conn.socket && conn.socket.destroyed) resolve();
		else conn.once('esl::end', resolve);
	});
}

async function inbound()
{
	const conn = await c.connect();
	const rec = c.recorder(conn);
	await new Promise((resolve) => conn.events('json', 'ALL', resolve));
	return { conn, rec };
}

test('socket: channel data, answer + playback + hangup over the outbound connection', async () => {
	const s = serve();
	const watch = await inbound();
	const dest = `${PREFIX}01`;
	let call;
	let conn;
	try {
		await s.listening;
		call = await c.startCall(dest);
		conn = await c.withTimeout(s.conn, 15000, 'irisx connecting to esl.Server');
		const rec = c.recorder(conn);
		const notice = new Promise((resolve) => conn.once('esl::event::disconnect::notice', resolve));
		const gone = ended(conn);

		const info = conn.getInfo();
		assert.ok(info, 'channel data after connect');
		const uuid = info.getHeader('Unique-ID');
		assert.match(uuid || '', /^[0-9a-f-]{36}$/i);
		assert.equal(info.getHeader('Event-Name'), 'CHANNEL_DATA');
		assert.equal(info.getHeader('Caller-Destination-Number'), dest);
		assert.equal(info.getHeader('variable_outbound_test_var'), 'before');
		assert.equal(info.getHeader('Socket-Mode'), 'async');
		assert.equal(info.getHeader('Control'), 'full');
		const create = await watch.rec.wait((e) => c.name(e) === 'CHANNEL_CREATE' &&
			e.getHeader('Caller-Destination-Number') === dest, 5000, 'CHANNEL_CREATE');
		assert.equal(create.getHeader('Unique-ID'), uuid, 'the channel data is the call');

		const a = await execute(conn, 'answer', '');
		assert.equal(a.getHeader('Application'), 'answer');
		const p = await execute(conn, 'playback', 'welcome.wav');
		assert.equal(p.getHeader('Application-Response'), '_none_');
		const reply = await c.command(conn, 'sendmsg', { 'call-command': 'hangup',
								 'hangup-cause': 'NORMAL_CLEARING' });
		assert.match(reply || '', /^\+OK/);

		const hc = await rec.wait((e) => c.name(e) === 'CHANNEL_HANGUP_COMPLETE', 10000,
					  'CHANNEL_HANGUP_COMPLETE on the outbound connection');
		assert.equal(hc.getHeader('Unique-ID'), uuid);
		const n = await c.withTimeout(notice, 10000, 'the disconnect notice');
		assert.equal(n.getHeader('Controlled-Session-UUID'), uuid);
		await c.withTimeout(gone, 10000, 'irisx closing the outbound socket');

		// myevents: only this channel's, and in order.
		const order = rec.seen.map(c.name);
		for (const e of rec.seen) assert.equal(e.getHeader('Unique-ID'), uuid, c.name(e));
		for (const want of ['CHANNEL_ANSWER', 'PLAYBACK_START', 'PLAYBACK_STOP', 'CHANNEL_HANGUP'])
			assert.ok(order.includes(want), `${want} missing: ${order.join(' ')}`);
		assert.ok(order.indexOf('PLAYBACK_STOP') < order.indexOf('CHANNEL_HANGUP'), order.join(' '));

		const res = await call.done;
		assert.equal(res.sipp, 0, `SIPp failed: ${res.errors}`);
		assert.ok(c.traceMessages(res.trace).some((m) => m.dir === 'received' && /^BYE /.test(m.text)),
			  'the caller got a BYE');
	} finally {
		// A failed assertion must not leave the call or the connection behind.
		if (conn && conn.socket) conn.socket.destroy();
		if (call) call.done.kill();
		c.close(watch.conn);
		s.server.close();
	}
});

test('socket: exit closes the connection and the dialplan goes on', async () => {
	const s = serve();
	const watch = await inbound();
	const dest = `${PREFIX}02`;
	let call;
	let conn;
	try {
		await s.listening;
		call = await c.startCall(dest);
		conn = await c.withTimeout(s.conn, 15000, 'irisx connecting to esl.Server');
		const uuid = conn.getInfo().getHeader('Unique-ID');
		const gone = ended(conn);
		await execute(conn, 'answer', '');
		assert.match(await c.command(conn, 'exit') || '', /^\+OK/);
		await c.withTimeout(gone, 10000, 'the socket closing after exit');

		const done = await watch.rec.wait((e) => c.name(e) === 'CHANNEL_EXECUTE_COMPLETE' &&
			e.getHeader('Unique-ID') === uuid && e.getHeader('Application') === 'socket',
			10000, 'socket completing');
		const next = await watch.rec.wait((e) => c.name(e) === 'CHANNEL_EXECUTE' &&
			e.getHeader('Unique-ID') === uuid && e.getHeader('Application') === 'set' &&
			e.getHeader('Application-Data') === 'outbound_after_socket=yes', 10000,
			'the action after socket');
		assert.ok(c.seq(next) > c.seq(done));
		const hc = await watch.rec.wait((e) => c.name(e) === 'CHANNEL_HANGUP_COMPLETE' &&
			e.getHeader('Unique-ID') === uuid, 10000, 'the hangup when the route ends');
		assert.equal(hc.getHeader('Hangup-Cause'), 'NORMAL_CLEARING');
		const res = await call.done;
		assert.equal(res.sipp, 0, `SIPp failed: ${res.errors}`);
	} finally {
		// A failed assertion must not leave the call or the connection behind.
		if (conn && conn.socket) conn.socket.destroy();
		if (call) call.done.kill();
		c.close(watch.conn);
		s.server.close();
	}
});

test('uuid_transfer re-routes a parked call; eval expands its variables', async () => {
	const watch = await inbound();
	const dest = c.parkNumber(41);
	let call;
	let uuid;
	try {
		call = await c.startCall(dest);
		uuid = await c.answeredUuid(watch.rec, dest);
		assert.equal((await c.api(watch.conn, 'eval', `uuid:${uuid} [\${destination_number}]`)).trim(),
			     `[${dest}]`);
		assert.match(await c.api(watch.conn, 'eval', 'uuid:nosuch x'), /^-ERR/);
		// A refused transfer (no B-leg) leaves the call as it is.
		assert.match(await c.api(watch.conn, 'uuid_transfer', `${uuid} -bleg 5551234`), /^-ERR/);
		assert.equal((await c.api(watch.conn, 'uuid_exists', uuid)).trim(), 'true');
		const reply = await c.api(watch.conn, 'uuid_transfer', `${uuid} 5551234 XML public`);
		assert.match(reply, /^\+OK/, `uuid_transfer: ${reply}`);
		await watch.rec.wait((e) => c.name(e) === 'PLAYBACK_START' && e.getHeader('Unique-ID') === uuid,
				     10000, 'PLAYBACK_START after the transfer');
		const hc = await watch.rec.wait((e) => c.name(e) === 'CHANNEL_HANGUP_COMPLETE' &&
			e.getHeader('Unique-ID') === uuid, 20000, 'the hangup at the end of the new route');
		assert.equal(hc.getHeader('Hangup-Cause'), 'NORMAL_CLEARING');
		assert.equal(hc.getHeader('Caller-Destination-Number'), '5551234');
		uuid = null;
		const res = await call.done;
		assert.equal(res.sipp, 0, `SIPp failed: ${res.errors}`);
	} finally {
		if (uuid) await c.api(watch.conn, 'uuid_kill', uuid).catch(() => {});
		if (call) call.done.kill();
		c.close(watch.conn);
	}
});
