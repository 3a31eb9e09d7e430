// auth.test.js — Event Socket authentication and commands through modesl:
// the configured password is accepted, a wrong one and FreeSWITCH's default
// ClueCon are refused (and the refused connection runs nothing), api status,
// api of an unknown command, bgapi with its BACKGROUND_JOB (Job-UUID matches).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const c = require('./common');

test('the configured password is accepted', async () => {
	const conn = await c.connect();
	try {
		assert.equal(conn.authed, true);
	} finally {
		c.close(conn);
	}
});

async function refused(password)
{
	let err;
	try {
		const conn = await c.connect(password);
		c.close(conn);
	} catch (e) {
		err = e;
	}
	assert.ok(err && err.reply !== undefined, `password '${password}' was not refused (${err})`);
	assert.match(err.reply, /^-ERR invalid/);
	// A refused connection must not run commands: no api/response comes.
	const conn = err.conn;
	const answered = await new Promise((resolve) => {
		const timer = setTimeout(() => resolve(false), 1500);
		conn.on('esl::event::api::response', () => { clearTimeout(timer); resolve(true); });
		if (conn.socket && !conn.socket.destroyed) conn.send('api status');
	});
	c.close(conn);
	assert.equal(answered, false, 'the server answered api after refusing auth');
}

test('a wrong password is refused', () => refused(c.env('ESL_PASSWORD') + 'x'));

test("FreeSWITCH's default password ClueCon is refused", () => refused('ClueCon'));

test('api status', async () => {
	const conn = await c.connect();
	try {
		const body = await c.api(conn, 'status');
		assert.match(body, /^UP /m, `status: ${body}`);
		assert.match(body, /session\(s\)/, `status: ${body}`);
		const bad = await c.api(conn, 'no_such_command_here');
		assert.match(bad, /^-ERR no_such_command_here Command not found!/);
	} finally {
		c.close(conn);
	}
});

test('bgapi answers with a BACKGROUND_JOB carrying its Job-UUID', async () => {
	const conn = await c.connect();
	try {
		// modesl's own bgapi: it picks a Job-UUID and waits for the
		// BACKGROUND_JOB event with that Job-UUID.
		const jobid = crypto.randomUUID();
		const evt = await c.withTimeout(new Promise((resolve) => conn.bgapi('status', '', jobid, resolve)),
						5000, 'BACKGROUND_JOB of bgapi status');
		assert.equal(evt.getHeader('Event-Name'), 'BACKGROUND_JOB');
		assert.equal(evt.getHeader('Job-UUID'), jobid);
		assert.equal(evt.getHeader('Job-Command'), 'status');
		assert.match(evt.getBody(), /^UP /m);

		// Without a Job-UUID the server picks one and says which.
		const rec = c.recorder(conn);
		const reply = await c.command(conn, 'bgapi version');
		const m = /^\+OK Job-UUID: ([0-9a-f-]{36})$/i.exec(reply);
		assert.ok(m, `bgapi reply: ${reply}`);
		const job = await rec.wait((e) => c.name(e) === 'BACKGROUND_JOB' &&
					   e.getHeader('Job-UUID') === m[1], 5000, 'BACKGROUND_JOB of bgapi version');
		assert.ok(job.getBody().length > 0, 'bgapi version has a body');
	} finally {
		c.close(conn);
	}
});
