// bridge_uuid.js — uuid_bridge over the Event Socket (modesl) between two
// calls that SIPp placed into irisx and that irisx parked; run by
// tests/interop/test_bridge_uuid.sh with node --test. Each caller's
// rtp_peer.py sends its own tone: once bridged, each must hear the other's
// tone (and not its own); CHANNEL_BRIDGE carries FreeSWITCH's headers; a BYE
// from one caller makes irisx send a BYE to the other with the cause;
// uuid_send_dtmf reaches the far end as RFC 4733 events.
//
// Environment: as common.js, plus BRIDGE_TONE_A / BRIDGE_TONE_B (the WAV
// files the two callers send).
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

const of = (uuid, n) => (e) => c.name(e) === n && e.getHeader('Unique-ID') === uuid;

// What `call` heard between from and to: its correlation with `wav`.
async function heard(recording, from, to, wav)
{
	const r = await c.analyze(recording, ['--from', String(from), '--to', String(to),
					      '--pt', '0,8', '--ref', wav, '--ref-len', '1']);
	return { packets: Number(r.packets), corr: Number(r.corr) };
}

async function twoParkedCalls(s, n, optsA, optsB)
{
	const dA = c.parkNumber(n), dB = c.parkNumber(n + 1);
	const a = await c.startCall(dA, optsA);
	const ua = await c.answeredUuid(s.rec, dA);
	const b = await c.startCall(dB, optsB);
	const ub = await c.answeredUuid(s.rec, dB);
	return { a, b, ua, ub, dA, dB };
}

test('uuid_bridge: each caller hears the other; A hangs up, B follows', async () => {
	const s = await allEvents();
	const toneA = c.env('BRIDGE_TONE_A'), toneB = c.env('BRIDGE_TONE_B');
	let k;
	try {
		k = await twoParkedCalls(s, 1, { byeAfterMs: 9000, peerArgs: ['--send-wav', toneA] },
					 { peerArgs: ['--send-wav', toneB] });
		const t0 = Date.now() / 1000;
		const reply = await c.api(s.conn, 'uuid_bridge', `${k.ua} ${k.ub}`);
		assert.equal(reply.trim(), `+OK ${k.ub}`);

		const br = await s.rec.wait(of(k.ua, 'CHANNEL_BRIDGE'), 5000, 'CHANNEL_BRIDGE');
		assert.equal(br.getHeader('Bridge-A-Unique-ID'), k.ua);
		assert.equal(br.getHeader('Bridge-B-Unique-ID'), k.ub);
		assert.equal(br.getHeader('Other-Leg-Unique-ID'), k.ub);
		assert.equal(br.getHeader('Other-Type'), 'originatee');
		assert.equal(br.getHeader('Other-Leg-Destination-Number'), k.dB);
		assert.equal(br.getHeader('variable_signal_bond'), k.ub);
		assert.equal((await c.api(s.conn, 'uuid_getvar', `${k.ub} signal_bond`)).trim(), k.ua);
		assert.equal((await c.api(s.conn, 'uuid_getvar', `${k.ua} bridge_uuid`)).trim(), k.ub);
		// bridged already: FreeSWITCH's "Invalid uuid" for a missing one
		assert.equal((await c.api(s.conn, 'uuid_bridge', `${k.ua} 00000000-0000-4000-8000-000000000000`)).trim(),
			     '-ERR Invalid uuid');

		// A's SIPp hangs up 9 s after its answer: B gets a BYE, with A's cause.
		const hcB = await s.rec.wait(of(k.ub, 'CHANNEL_HANGUP_COMPLETE'), 20000,
					     'CHANNEL_HANGUP_COMPLETE of B');
		assert.equal(hcB.getHeader('Hangup-Cause'), 'NORMAL_CLEARING');
		await s.rec.wait(of(k.ua, 'CHANNEL_UNBRIDGE'), 5000, 'CHANNEL_UNBRIDGE');
		const ra = await k.a.done, rb = await k.b.done;
		assert.equal(ra.sipp, 0, `SIPp A failed: ${ra.errors}`);
		assert.equal(rb.sipp, 0, `SIPp B failed: ${rb.errors}`);
		const reason = c.byeHeader(rb.trace, 'Reason');
		assert.match(reason || '', /^Q\.850\s*;\s*cause=16\b/i, `Reason: ${reason}`);

		// The audio of a few seconds of bridge, both ways.
		const aHeard = await heard(ra.peer, t0 + 1, t0 + 4, toneB);
		const bHeard = await heard(rb.peer, t0 + 1, t0 + 4, toneA);
		assert.ok(aHeard.packets > 100, `A received ${aHeard.packets} packets while bridged`);
		assert.ok(bHeard.packets > 100, `B received ${bHeard.packets} packets while bridged`);
		assert.ok(aHeard.corr > 0.9, `A hears B's tone: ${aHeard.corr}`);
		assert.ok(bHeard.corr > 0.9, `B hears A's tone: ${bHeard.corr}`);
		const aSelf = await heard(ra.peer, t0 + 1, t0 + 4, toneA);
		assert.ok(aSelf.corr < 0.5, `A does not hear itself: ${aSelf.corr}`);
		k = null;
	} finally {
		if (k) {
			await c.api(s.conn, 'uuid_kill', k.ua).catch(() => {});
			await c.api(s.conn, 'uuid_kill', k.ub).catch(() => {});
			k.a.done.kill();
			k.b.done.kill();
		}
		c.close(s.conn);
	}
});

test('uuid_bridge: B hangs up, A follows; uuid_send_dtmf reaches B', async () => {
	const s = await allEvents();
	let k;
	try {
		k = await twoParkedCalls(s, 3, { peerArgs: ['--send-wav', c.env('BRIDGE_TONE_A')] },
					 { byeAfterMs: 6000, peerArgs: ['--no-send'] });
		assert.equal((await c.api(s.conn, 'uuid_bridge', `${k.ua} ${k.ub}`)).trim(), `+OK ${k.ub}`);
		await s.rec.wait(of(k.ua, 'CHANNEL_BRIDGE'), 5000, 'CHANNEL_BRIDGE');
		const t0 = Date.now() / 1000;
		assert.equal((await c.api(s.conn, 'uuid_send_dtmf', `${k.ub} 12#@120`)).trim(), '+OK Success');
		assert.match(await c.api(s.conn, 'uuid_send_dtmf', `${k.ub} 1x`), /^-ERR/);
		assert.match(await c.api(s.conn, 'uuid_send_dtmf', k.ub), /^-USAGE/);

		const hcA = await s.rec.wait(of(k.ua, 'CHANNEL_HANGUP_COMPLETE'), 20000,
					     'CHANNEL_HANGUP_COMPLETE of A');
		assert.equal(hcA.getHeader('Hangup-Cause'), 'NORMAL_CLEARING');
		const ra = await k.a.done, rb = await k.b.done;
		assert.equal(ra.sipp, 0, `SIPp A failed: ${ra.errors}`);
		assert.equal(rb.sipp, 0, `SIPp B failed: ${rb.errors}`);
		const reason = c.byeHeader(ra.trace, 'Reason');
		assert.match(reason || '', /^Q\.850\s*;\s*cause=16\b/i, `Reason: ${reason}`);
		// three digits, each a run of telephone-event packets (PT 101)
		const te = await c.analyze(rb.peer, ['--from', String(t0), '--pt', '101']);
		assert.ok(Number(te.packets) >= 9, `telephone-event packets at B: ${te.packets}`);
		k = null;
	} finally {
		if (k) {
			await c.api(s.conn, 'uuid_kill', k.ua).catch(() => {});
			await c.api(s.conn, 'uuid_kill', k.ub).catch(() => {});
			k.a.done.kill();
			k.b.done.kill();
		}
		c.close(s.conn);
	}
});
