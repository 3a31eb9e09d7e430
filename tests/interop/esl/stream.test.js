// stream.test.js — the event stream without calls: events fired with
// `sendevent` reach subscribers in json and plain, a `filter` narrows the
// stream to matching events, and irisx's `resume <seq>` after a reconnect
// delivers the events missed meanwhile, in order, and none seen before.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const c = require('./common');

const SUB = 'irisx::esltest';
const mine = (run) => (e) => c.name(e) === 'CUSTOM' && e.getHeader('Event-Subclass') === SUB &&
	e.getHeader('X-Test-Run') === run;

async function subscribed(type = 'json', events = 'ALL')
{
	const conn = await c.connect();
	const rec = c.recorder(conn);
	const reply = await new Promise((resolve) => conn.events(type, events, (e) => resolve(e.getHeader('Reply-Text'))));
	assert.match(reply, /^\+OK/, `event ${type} ${events}: ${reply}`);
	return { conn, rec };
}

test('sendevent reaches json and plain subscribers with Event-Sequence', async () => {
	const run = crypto.randomUUID();
	const a = await subscribed('json');
	// A bare CUSTOM subscribes to no subclass (as FreeSWITCH): name ours.
	const b = await subscribed('plain', `CUSTOM ${SUB}`);
	try {
		const reply = await c.sendCustom(a.conn, SUB, { 'X-Test-Run': run, 'X-Test-Text': 'a b: c' });
		assert.match(reply, /^\+OK/, `sendevent: ${reply}`);
		for (const s of [a, b]) {
			const e = await s.rec.wait(mine(run), 5000, 'the CUSTOM event');
			assert.equal(e.getHeader('X-Test-Text'), 'a b: c', 'header value round trip');
			assert.ok(c.seq(e) > 0, `Event-Sequence: ${e.getHeader('Event-Sequence')}`);
			assert.ok(e.getHeader('Core-UUID'), 'Core-UUID');
		}
	} finally {
		c.close(a.conn);
		c.close(b.conn);
	}
});

test('filter narrows the stream to matching events', async () => {
	const run = crypto.randomUUID();
	const all = await subscribed();
	const narrow = await subscribed();
	try {
		const reply = await c.command(narrow.conn, 'filter X-Test-Tag keep');
		assert.match(reply, /^\+OK/, `filter: ${reply}`);
		const tags = ['drop', 'keep', 'drop', 'keep'];
		for (const [i, tag] of tags.entries())
			await c.sendCustom(all.conn, SUB, { 'X-Test-Run': run, 'X-Test-Tag': tag, 'X-Test-N': i });
		const last = (e) => mine(run)(e) && e.getHeader('X-Test-N') === '3';
		await all.rec.wait(last, 5000, 'the last event, unfiltered');
		await narrow.rec.wait(last, 5000, 'the last event, filtered');
		// The unfiltered connection saw all four: the filter, not the
		// events, is what makes the difference.
		assert.deepEqual(all.rec.seen.filter(mine(run)).map((e) => e.getHeader('X-Test-Tag')), tags);
		const got = narrow.rec.seen.filter(mine(run)).map((e) => e.getHeader('X-Test-N'));
		assert.deepEqual(got, ['1', '3']);
		// Nothing else passes the filter either (HEARTBEAT, other events).
		for (const e of narrow.rec.seen)
			assert.equal(e.getHeader('X-Test-Tag'), 'keep', `${c.name(e)} passed the filter`);
	} finally {
		c.close(all.conn);
		c.close(narrow.conn);
	}
});

test('resume after a reconnect delivers the events missed', async () => {
	const run = crypto.randomUUID();
	const first = await subscribed();
	await c.sendCustom(first.conn, SUB, { 'X-Test-Run': run, 'X-Test-N': 0 });
	const e0 = await first.rec.wait(mine(run), 5000, 'the event before the disconnect');
	const since = c.seq(e0);
	c.close(first.conn);

	const other = await c.connect();
	let again;
	try {
		for (let i = 1; i <= 3; i++) await c.sendCustom(other, SUB, { 'X-Test-Run': run, 'X-Test-N': i });
		again = await subscribed();
		const reply = await c.command(again.conn, `resume ${since}`);
		assert.match(reply, /^\+OK/, `resume: ${reply}`);
		await again.rec.wait((e) => mine(run)(e) && e.getHeader('X-Test-N') === '3', 5000,
				     'the missed events after resume');
		const got = again.rec.seen.filter(mine(run));
		assert.deepEqual(got.map((e) => e.getHeader('X-Test-N')), ['1', '2', '3']);
		let prev = since;
		for (const e of got) {
			assert.ok(c.seq(e) > prev, `Event-Sequence ${c.seq(e)} after ${prev}`);
			prev = c.seq(e);
		}
	} finally {
		c.close(other);
		if (again) c.close(again.conn);
	}
});
