// call.test.js — Event Socket with real calls (SIPp + rtp_peer.py to irisx's
// external profile): channel events in order with one Unique-ID; a names-only
// plain subscription; uuid_broadcast audio reaching the caller and uuid_kill
// with a cause; execute() of playback over sendmsg completing; myevents; the
// other api commands FreeSWITCH's clients use (show channels, uuid_dump,
// global vars, hupall, ...).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const c = require('./common');

async function allEvents()
{
	const conn = await c.connect();
	const rec = c.recorder(conn);
	await new Promise((resolve) => conn.events('json', 'ALL', resolve));
	return { conn, rec };
}

// Ends a call that a failed assertion left up, so SIPp does not linger.
async function cleanup(conn, uuid, call)
{
	if (conn && uuid) await c.api(conn, 'uuid_kill', uuid).catch(() => {});
	if (call) call.done.kill();
}

test('channel events of a call arrive in order with one Unique-ID', async () => {
	const s = await allEvents();
	const names = await c.connect();
	const nrec = c.recorder(names);
	await new Promise((resolve) => names.events('plain', 'CHANNEL_CREATE CHANNEL_HANGUP_COMPLETE', resolve));
	const dest = '5551234'; // the default public dialplan: answer, welcome.wav, hangup
	let call;
	try {
		call = await c.startCall(dest);
		const create = await s.rec.wait((e) => c.name(e) === 'CHANNEL_CREATE' &&
			e.getHeader('Caller-Destination-Number') === dest, 15000, 'CHANNEL_CREATE');
		const uuid = create.getHeader('Unique-ID');
		assert.match(uuid || '', /^[0-9a-f-]{36}$/i);
		await s.rec.wait((e) => c.name(e) === 'CHANNEL_HANGUP_COMPLETE' &&
			e.getHeader('Unique-ID') === uuid, 20000, 'CHANNEL_HANGUP_COMPLETE');
		const res = await call.done;
		assert.equal(res.sipp, 0, `SIPp failed: ${res.errors}`);

		const ofCall = s.rec.seen.filter((e) => e.getHeader('Unique-ID') === uuid);
		const order = ofCall.map(c.name);
		const at = (n) => order.indexOf(n);
		for (const n of ['CHANNEL_CREATE', 'CHANNEL_ANSWER', 'CHANNEL_EXECUTE',
				 'CHANNEL_EXECUTE_COMPLETE', 'PLAYBACK_START', 'PLAYBACK_STOP',
				 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE'])
			assert.ok(at(n) >= 0, `${n} missing; got ${order.join(' ')}`);
		assert.ok(at('CHANNEL_CREATE') < at('CHANNEL_ANSWER') &&
			  at('CHANNEL_ANSWER') < at('PLAYBACK_START') &&
			  at('PLAYBACK_START') < at('PLAYBACK_STOP') &&
			  at('PLAYBACK_STOP') < at('CHANNEL_HANGUP') &&
			  at('CHANNEL_HANGUP') < at('CHANNEL_HANGUP_COMPLETE'), `order: ${order.join(' ')}`);
		const late = order.slice(at('CHANNEL_HANGUP')).filter((n) => /^(CHANNEL_ANSWER|CHANNEL_EXECUTE|PLAYBACK_START)$/.test(n));
		assert.deepEqual(late, [], `after CHANNEL_HANGUP: ${order.join(' ')}`);
		for (let i = 1; i < ofCall.length; i++)
			assert.ok(c.seq(ofCall[i]) > c.seq(ofCall[i - 1]), 'Event-Sequence increases');
		const done = ofCall[ofCall.length - 1];
		assert.equal(done.getHeader('Hangup-Cause'), 'NORMAL_CLEARING');

		// The names-only plain subscription got exactly those two.
		await nrec.wait((e) => c.name(e) === 'CHANNEL_HANGUP_COMPLETE' && e.getHeader('Unique-ID') === uuid,
				5000, 'CHANNEL_HANGUP_COMPLETE on the plain connection');
		// (modesl adds BACKGROUND_JOB and CHANNEL_EXECUTE_COMPLETE to every
		// subscription it makes.)
		const plain = nrec.seen.filter((e) => e.getHeader('Unique-ID') === uuid &&
					       c.name(e) !== 'CHANNEL_EXECUTE_COMPLETE');
		assert.deepEqual(plain.map(c.name), ['CHANNEL_CREATE', 'CHANNEL_HANGUP_COMPLETE']);
		for (const e of plain) assert.equal(e.contentType, 'text/event-plain');
		for (const e of nrec.seen)
			assert.ok(['CHANNEL_CREATE', 'CHANNEL_HANGUP_COMPLETE', 'BACKGROUND_JOB',
				   'CHANNEL_EXECUTE_COMPLETE'].includes(c.name(e)), `unsubscribed ${c.name(e)}`);
	} finally {
		if (call) call.done.kill();
		c.close(s.conn);
		c.close(names);
	}
});

test('uuid_broadcast plays to the caller; uuid_kill ends the call with its cause', async () => {
	const s = await allEvents();
	const dest = c.parkNumber(1);
	let call;
	let uuid;
	try {
		call = await c.startCall(dest);
		uuid = await c.answeredUuid(s.rec, dest);
		assert.equal((await c.api(s.conn, 'uuid_exists', uuid)).trim(), 'true');
		assert.match(await c.api(s.conn, 'uuid_setvar', `${uuid} esl_test_var hello`), /^\+OK/);
		assert.equal((await c.api(s.conn, 'uuid_getvar', `${uuid} esl_test_var`)).trim(), 'hello');

		const t0 = Date.now() / 1000;
		const reply = await c.api(s.conn, 'uuid_broadcast', `${uuid} welcome.wav aleg`);
		assert.match(reply, /^\+OK/, `uuid_broadcast: ${reply}`);
		await s.rec.wait((e) => c.name(e) === 'PLAYBACK_START' && e.getHeader('Unique-ID') === uuid,
				 5000, 'PLAYBACK_START');
		await s.rec.wait((e) => c.name(e) === 'PLAYBACK_STOP' && e.getHeader('Unique-ID') === uuid,
				 20000, 'PLAYBACK_STOP');

		const kill = await c.api(s.conn, 'uuid_kill', `${uuid} CALL_REJECTED`);
		assert.match(kill, /^\+OK/, `uuid_kill: ${kill}`);
		const hc = await s.rec.wait((e) => c.name(e) === 'CHANNEL_HANGUP_COMPLETE' &&
			e.getHeader('Unique-ID') === uuid, 5000, 'CHANNEL_HANGUP_COMPLETE');
		assert.equal(hc.getHeader('Hangup-Cause'), 'CALL_REJECTED');
		const res = await call.done;
		assert.equal(res.sipp, 0, `SIPp failed: ${res.errors}`);
		const reason = c.byeHeader(res.trace, 'Reason');
		assert.match(reason || '', /^Q\.850\s*;\s*cause=21\b/i, `Reason: ${reason}`);
		assert.equal((await c.api(s.conn, 'uuid_exists', uuid)).trim(), 'false');
		uuid = null;

		// What the caller heard after the broadcast is welcome.wav.
		const r = await c.analyze(res.peer, ['--from', String(t0), '--ref', c.env('ESL_WELCOME_WAV')]);
		assert.ok(Number(r.packets) > 50, `packets after the broadcast: ${r.packets}`);
		assert.ok(Number(r.corr) > 0.9, `correlation with welcome.wav: ${r.corr}`);
	} finally {
		await cleanup(s.conn, uuid, call);
		c.close(s.conn);
	}
});

test('execute() of playback over sendmsg completes', async () => {
	const s = await allEvents();
	const dest = c.parkNumber(2);
	let call;
	let uuid;
	try {
		call = await c.startCall(dest);
		uuid = await c.answeredUuid(s.rec, dest);
		const t0 = Date.now();
		// modesl sends an Event-UUID with sendmsg and waits for the
		// CHANNEL_EXECUTE_COMPLETE whose Application-UUID is that value.
		let sent;
		const evt = await c.withTimeout(new Promise((resolve) => {
			sent = s.conn.execute('playback', 'silence_stream://600', uuid, resolve);
		}), 10000, 'CHANNEL_EXECUTE_COMPLETE of playback').catch((e) => {
			const got = s.rec.seen.filter((x) => c.name(x) === 'CHANNEL_EXECUTE_COMPLETE' &&
				x.getHeader('Unique-ID') === uuid).map((x) =>
				`${x.getHeader('Application')} Application-UUID=${x.getHeader('Application-UUID')}`);
			throw new Error(`${e.message}; sent Event-UUID ${sent}; seen: ${got.join(', ') || 'none'}`);
		});
		const ms = Date.now() - t0;
		assert.equal(evt.getHeader('Event-Name'), 'CHANNEL_EXECUTE_COMPLETE');
		assert.equal(evt.getHeader('Unique-ID'), uuid);
		assert.equal(evt.getHeader('Application'), 'playback');
		assert.equal(evt.getHeader('Application-Data'), 'silence_stream://600');
		assert.ok(ms >= 500, `playback of 600 ms completed after ${ms} ms`);
		// The channel goes on (parked) after the application.
		assert.equal((await c.api(s.conn, 'uuid_exists', uuid)).trim(), 'true');

		const reply = await c.command(s.conn, `sendmsg ${uuid}`, { 'call-command': 'hangup',
									     'hangup-cause': 'USER_BUSY' });
		assert.match(reply, /^\+OK/, `sendmsg hangup: ${reply}`);
		const hc = await s.rec.wait((e) => c.name(e) === 'CHANNEL_HANGUP_COMPLETE' &&
			e.getHeader('Unique-ID') === uuid, 5000, 'CHANNEL_HANGUP_COMPLETE');
		assert.equal(hc.getHeader('Hangup-Cause'), 'USER_BUSY');
		uuid = null;
		const res = await call.done;
		assert.equal(res.sipp, 0, `SIPp failed: ${res.errors}`);
		assert.match(c.byeHeader(res.trace, 'Reason') || '', /cause=17\b/);
	} finally {
		await cleanup(s.conn, uuid, call);
		c.close(s.conn);
	}
});

test("myevents narrows the stream to one channel's events", async () => {
	const s = await allEvents();
	const destA = c.parkNumber(3);
	const destB = c.parkNumber(4);
	let callA;
	let callB;
	let a;
	let b;
	let mine;
	try {
		callA = await c.startCall(destA);
		callB = await c.startCall(destB);
		a = await c.answeredUuid(s.rec, destA);
		b = await c.answeredUuid(s.rec, destB);
		mine = await c.connect();
		const rec = c.recorder(mine);
		const reply = await c.command(mine, `myevents ${a}`);
		assert.match(reply, /^\+OK/, `myevents: ${reply}`);

		await c.api(s.conn, 'uuid_kill', b);
		await s.rec.wait((e) => c.name(e) === 'CHANNEL_HANGUP_COMPLETE' && e.getHeader('Unique-ID') === b,
				 5000, 'B hung up');
		await c.api(s.conn, 'uuid_kill', a);
		await rec.wait((e) => c.name(e) === 'CHANNEL_HANGUP_COMPLETE' && e.getHeader('Unique-ID') === a,
			       5000, "A's CHANNEL_HANGUP_COMPLETE on the myevents connection");
		assert.ok(rec.seen.some((e) => c.name(e) === 'CHANNEL_HANGUP'), 'CHANNEL_HANGUP of A');
		for (const e of rec.seen)
			assert.equal(e.getHeader('Unique-ID'), a, `${c.name(e)} of another channel`);
		a = b = null;
		assert.equal((await callA.done).sipp, 0);
		assert.equal((await callB.done).sipp, 0);
	} finally {
		await cleanup(s.conn, a, callA);
		await cleanup(s.conn, b, callB);
		c.close(mine);
		c.close(s.conn);
	}
});

test('api commands: version, uptime, create_uuid, globals, help, show channels, uuid_dump, hupall', async () => {
	const s = await allEvents();
	const dest = c.parkNumber(5);
	let call;
	let uuid;
	try {
		assert.ok((await c.api(s.conn, 'version')).trim().length > 0, 'version');
		assert.match((await c.api(s.conn, 'uptime')).trim(), /^\d+$/, 'uptime in seconds');
		const made = (await c.api(s.conn, 'create_uuid')).trim();
		assert.match(made, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
		assert.notEqual((await c.api(s.conn, 'create_uuid')).trim(), made, 'two create_uuid differ');
		const val = `v${process.pid}`;
		assert.match(await c.api(s.conn, 'global_setvar', `esl_test_global=${val}`), /^\+OK/);
		assert.equal((await c.api(s.conn, 'global_getvar', 'esl_test_global')).trim(), val);
		const help = await c.api(s.conn, 'help');
		for (const cmd of ['uuid_kill', 'uuid_broadcast', 'show', 'status'])
			assert.match(help, new RegExp(`\\b${cmd}\\b`), `help lists ${cmd}`);
		assert.match(await c.api(s.conn, 'reloadxml'), /^\+OK/);
		assert.match(await c.api(s.conn, 'reloadacl'), /^\+OK/);

		call = await c.startCall(dest);
		uuid = await c.answeredUuid(s.rec, dest);
		const shown = JSON.parse(await c.api(s.conn, 'show', 'channels as json'));
		assert.ok(shown.row_count >= 1, `row_count ${shown.row_count}`);
		const row = (shown.rows || []).find((r) => r.uuid === uuid);
		assert.ok(row, 'show channels lists the call');
		assert.equal(row.dest, dest);
		const dump = await c.api(s.conn, 'uuid_dump', uuid);
		assert.match(dump, new RegExp(`^Unique-ID: ${uuid}$`, 'm'));
		assert.match(await c.api(s.conn, 'uuid_exists', 'no-such-uuid'), /false/);
		assert.match(await c.api(s.conn, 'uuid_kill', '00000000-0000-0000-0000-000000000000'), /^-ERR/);

		assert.match(await c.api(s.conn, 'hupall', 'MANAGER_REQUEST'), /^\+OK/);
		const hc = await s.rec.wait((e) => c.name(e) === 'CHANNEL_HANGUP_COMPLETE' &&
			e.getHeader('Unique-ID') === uuid, 5000, 'CHANNEL_HANGUP_COMPLETE after hupall');
		assert.equal(hc.getHeader('Hangup-Cause'), 'MANAGER_REQUEST');
		uuid = null;
		assert.equal((await call.done).sipp, 0);
		const after = JSON.parse(await c.api(s.conn, 'show', 'channels as json'));
		assert.ok(!(after.rows || []).some((r) => r.uuid === hc.getHeader('Unique-ID')),
			  'the call is gone from show channels');
	} finally {
		await cleanup(s.conn, uuid, call);
		c.close(s.conn);
	}
});
