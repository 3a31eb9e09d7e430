// ws_client.js — a WebSocket client of irisx's GET /v1/events, with the npm
// package `ws` (pinned in package-lock.json), for the interop tests and the
// bench.
//
//   node ws_client.js watch URL TOKEN OUT READY
//     writes each message (one JSON event) as a line to OUT, and "open" to
//     READY once the connection is up; runs until killed or the server closes.
//   node ws_client.js count URL TOKEN N SECONDS
//     counts messages until N arrived (or SECONDS passed) and prints
//     "received R in S s: X events/s" measured from the first message.
'use strict';

const fs = require('node:fs');
const WebSocket = require('ws');

const [mode, url, token, ...rest] = process.argv.slice(2);
if (!mode || !url || !token) {
	console.error('usage: ws_client.js watch|count URL TOKEN ...');
	process.exit(2);
}

const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } });
ws.on('unexpected-response', (req, res) => {
	console.error(`unexpected response ${res.statusCode}`);
	process.exit(3);
});
ws.on('error', (err) => {
	console.error(`error: ${err.message}`);
	process.exit(4);
});

if (mode === 'watch') {
	const [out, ready] = rest;
	const fd = fs.openSync(out, 'a');
	ws.on('open', () => fs.writeFileSync(ready, 'open\n'));
	ws.on('message', (data) => {
		const text = data.toString('utf8');
		JSON.parse(text); // each message is one JSON object
		fs.writeSync(fd, text + '\n');
	});
	ws.on('close', (code) => {
		fs.writeSync(fd, JSON.stringify({ closed: code }) + '\n');
		process.exit(0);
	});
} else if (mode === 'count') {
	const want = Number(rest[0]);
	const limit = Number(rest[1] || 30) * 1000;
	let n = 0;
	let first = 0;
	let lastSeq = 0;
	let gaps = 0;
	const finish = () => {
		const secs = n > 1 ? (Number(process.hrtime.bigint() - first) / 1e9) : 0;
		const rate = secs > 0 ? Math.round((n - 1) / secs) : 0;
		console.log(`received ${n} in ${secs.toFixed(3)} s: ${rate} events/s, ${gaps} out of order`);
		ws.close();
		process.exit(n >= want ? 0 : 1);
	};
	ws.on('open', () => {
		if (rest[2])
			fs.writeFileSync(rest[2], 'open\n');
		setTimeout(finish, limit);
	});
	ws.on('message', (data) => {
		if (n === 0)
			first = process.hrtime.bigint();
		n++;
		const ev = JSON.parse(data.toString('utf8'));
		const seq = Number(ev['Event-Sequence'] || 0);
		if (seq && seq <= lastSeq)
			gaps++;
		if (seq)
			lastSeq = seq;
		if (n >= want)
			finish();
	});
} else {
	console.error(`unknown mode ${mode}`);
	process.exit(2);
}
