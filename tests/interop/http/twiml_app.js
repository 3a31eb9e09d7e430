// twiml_app.js — the application irisx's `webhook` talks to in the TwiML
// interop test (tests/interop/test_twiml.sh) and bench (bench/run_twiml.sh).
// Node's http module only.
//
//   node twiml_app.js PORT AUTH_TOKEN LOG_FILE TONE_WAV [TONE_MP3]
//
// Listens on 127.0.0.1:PORT. Every request is checked against
// X-Twilio-Signature (base64 HMAC-SHA1 of the URL, plus for a form POST each
// parameter sorted by name as name + value, keyed with AUTH_TOKEN) and
// logged as one JSON line in LOG_FILE:
//   {"t": epoch s, "path", "query", "method", "params", "sig_ok", "ua"}
// "listening" goes to stdout once the port is bound.
//
// Routes (the documents each scenario runs):
//   /say           Say, Pause 1 s, Play the tone WAV, Hangup
//   /play          Play the tone WAV twice (loop), then the digits 1 and 2
//                  (Play digits), Hangup
//   /gather        Gather 4 digits (action /gather-done) around a Say
//   /gather-done   Say, Hangup
//   /gatherkey     Gather until '#' (action /gatherkey-done)
//   /gatherkey-done  Hangup
//   /gathernone    a Gather nobody answers (action /gathernone-done, never
//                  requested), then one with actionOnEmptyResult (action
//                  /gatherempty-done: Hangup)
//   /record        Record maxLength 3 (action /record-done)
//   /record-done   Hangup
//   /recordkey     Record without a beep until a key (action /recordkey-done)
//   /recordkey-done  Hangup
//   /recordnone    Record that hears nothing (action /recordnone-done, never
//                  requested), then Redirect to /recordnone-next: Hangup
//   /dial?uas=P    Dial <Sip> to 127.0.0.1:P with a callerId, recorded from
//                  the answer (action /dial-done)
//   /dial-done     Hangup
//   /dialnum       Dial <Number> through the gateway (action /dialnum-done)
//   /dialstar?uas=P  Dial <Sip> with hangupOnStar (action /dialstar-done)
//   /redirect      Redirect (GET) to /redirected?via=redirect
//   /redirected    Say, Hangup
//   /reject        Reject busy
//   /rejected      Reject (reason "rejected", the default)
//   /loop          0.1 s of silence, then Redirect to itself, forever
//   /outbound      Say, Hangup (a call from POST /v1/calls)
//   /bench         Play the tone WAV, Hangup
//   /fallback      after /error: Say, Hangup; after anything else: 500
//   /error         500
//   /broken        200 with a document that is not well-formed XML
//   /slow          never answers (the request times out in irisx)
//   /audio/tone.wav  the WAV (GET)
//   /audio/tone.mp3  the same tone as MP3, when given (GET)
//   /mpeg          Play the MP3, Hangup
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');

const [portArg, token, logFile, toneWav, toneMp3] = process.argv.slice(2);
if (!portArg || !token || !logFile || !toneWav) {
	console.error('usage: twiml_app.js PORT AUTH_TOKEN LOG_FILE TONE_WAV');
	process.exit(2);
}
const port = Number(portArg);
const base = `http://127.0.0.1:${port}`;
const logFd = fs.openSync(logFile, 'a');
const tone = fs.readFileSync(toneWav);
const mp3 = toneMp3 ? fs.readFileSync(toneMp3) : null;

// Twilio's scheme: the URL as requested, then for a POST every parameter,
// sorted by name, as name + value.
function expectedSignature(url, params) {
	let data = url;
	if (params) {
		for (const name of Object.keys(params).sort()) {
			data += name + params[name];
		}
	}
	return crypto.createHmac('sha1', token).update(Buffer.from(data, 'utf8')).digest('base64');
}

function signatureOk(given, want) {
	if (typeof given !== 'string') {
		return false;
	}
	const a = Buffer.from(given);
	const b = Buffer.from(want);
	return a.length === b.length && crypto.timingSafeEqual(a, b);
}

// Form fields to an object; a name given twice keeps its last value (irisx
// sends each once).
function formParams(text) {
	const out = {};
	for (const [k, v] of new URLSearchParams(text)) {
		out[k] = v;
	}
	return out;
}

function xmlEscape(s) {
	return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function twiml(res, body) {
	res.writeHead(200, { 'Content-Type': 'application/xml' });
	res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Response>${body}</Response>\n`);
}

const toneUrl = `${base}/audio/tone.wav`;

const routes = {
	'/say': (q, p, res) =>
		twiml(res, '<Say>Hello from irisx.</Say><Pause length="1"/>' +
			`<Play>${xmlEscape(toneUrl)}</Play><Hangup/>`),
	'/play': (q, p, res) =>
		twiml(res, `<Play loop="2">${xmlEscape(toneUrl)}</Play><Play digits="1w2"/><Hangup/>`),
	'/gather': (q, p, res) =>
		twiml(res, '<Gather input="dtmf" numDigits="4" timeout="8" action="/gather-done">' +
			'<Say>Please enter four digits.</Say></Gather>' +
			'<Say>We did not get your digits.</Say><Hangup/>'),
	'/gather-done': (q, p, res) => twiml(res, `<Say>You entered ${xmlEscape(p.Digits || '')}.</Say><Hangup/>`),
	'/gatherkey': (q, p, res) =>
		twiml(res, '<Gather timeout="5" action="/gatherkey-done"><Say>Enter digits, then hash.</Say>' +
			'</Gather><Hangup/>'),
	'/gatherkey-done': (q, p, res) => twiml(res, '<Hangup/>'),
	'/gathernone': (q, p, res) =>
		twiml(res, '<Gather numDigits="2" timeout="2" action="/gathernone-done"><Say>Hello.</Say></Gather>' +
			'<Gather timeout="1" actionOnEmptyResult="true" action="/gatherempty-done"/>'),
	'/gathernone-done': (q, p, res) => twiml(res, '<Hangup/>'),
	'/gatherempty-done': (q, p, res) => twiml(res, '<Hangup/>'),
	'/record': (q, p, res) =>
		twiml(res, '<Record maxLength="3" timeout="10" action="/record-done"/><Hangup/>'),
	'/record-done': (q, p, res) => twiml(res, '<Hangup/>'),
	'/recordkey': (q, p, res) =>
		twiml(res, '<Record maxLength="20" playBeep="false" action="/recordkey-done"/><Hangup/>'),
	'/recordkey-done': (q, p, res) => twiml(res, '<Hangup/>'),
	'/recordnone': (q, p, res) =>
		twiml(res, '<Record maxLength="2" timeout="1" playBeep="false" action="/recordnone-done"/>' +
			'<Redirect>/recordnone-next</Redirect>'),
	'/recordnone-done': (q, p, res) => twiml(res, '<Hangup/>'),
	'/recordnone-next': (q, p, res) => twiml(res, '<Hangup/>'),
	'/dial': (q, p, res) =>
		twiml(res, '<Dial timeout="10" callerId="+15550001111" record="record-from-answer" action="/dial-done">' +
			`<Sip>sip:1000@127.0.0.1:${Number(q.get('uas'))}</Sip></Dial><Say>Not reached.</Say>`),
	'/dial-done': (q, p, res) => twiml(res, '<Hangup/>'),
	'/dialnum': (q, p, res) =>
		twiml(res, '<Dial timeout="10" action="/dialnum-done"><Number>+1 (555) 000-2222</Number></Dial>'),
	'/dialnum-done': (q, p, res) => twiml(res, '<Hangup/>'),
	'/dialstar': (q, p, res) =>
		twiml(res, '<Dial hangupOnStar="true" action="/dialstar-done">' +
			`<Sip>sip:1000@127.0.0.1:${Number(q.get('uas'))}</Sip></Dial>`),
	'/dialstar-done': (q, p, res) => twiml(res, '<Hangup/>'),
	'/redirect': (q, p, res) => twiml(res, '<Redirect method="GET">/redirected?via=redirect</Redirect>'),
	'/redirected': (q, p, res) => twiml(res, '<Say>Redirected.</Say><Hangup/>'),
	'/reject': (q, p, res) => twiml(res, '<Reject reason="busy"/>'),
	'/rejected': (q, p, res) => twiml(res, '<Reject/>'),
	'/loop': (q, p, res) => twiml(res, '<Play>silence_stream://100</Play><Redirect>/loop</Redirect>'),
	'/outbound': (q, p, res) => twiml(res, '<Say>This is an outbound call.</Say><Hangup/>'),
	'/bench': (q, p, res) => twiml(res, `<Play>${xmlEscape(toneUrl)}</Play><Hangup/>`),
	'/mpeg': (q, p, res) => twiml(res, `<Play>${base}/audio/tone.mp3</Play><Hangup/>`),
	'/fallback': (q, p, res) => {
		if ((p.ErrorUrl || '').endsWith('/error')) {
			twiml(res, '<Say>Sorry, something went wrong.</Say><Hangup/>');
		} else {
			res.writeHead(500, { 'Content-Type': 'text/plain' });
			res.end('the fallback fails too\n');
		}
	},
	'/error': (q, p, res) => {
		res.writeHead(500, { 'Content-Type': 'text/plain' });
		res.end('internal error\n');
	},
	'/broken': (q, p, res) => {
		res.writeHead(200, { 'Content-Type': 'application/xml' });
		res.end('<?xml version="1.0"?>\n<Response><Say>unterminated</Response\n');
	},
	// Held open: irisx's timeout ends it; the socket goes when irisx closes it.
	'/slow': () => {},
};

const server = http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const url = new URL(req.url, base);
		const body = Buffer.concat(chunks).toString('utf8');
		const isForm = req.method === 'POST' &&
			(req.headers['content-type'] || '').startsWith('application/x-www-form-urlencoded');
		const params = isForm ? formParams(body) : Object.fromEntries(url.searchParams);
		// The URL irisx signed: what it asked for, as the Host header names it.
		const signedUrl = `http://${req.headers.host}${req.url}`;
		const want = expectedSignature(signedUrl, isForm ? params : null);
		const entry = {
			t: Date.now() / 1000,
			path: url.pathname,
			query: url.search,
			method: req.method,
			params,
			sig_ok: signatureOk(req.headers['x-twilio-signature'], want),
			ua: req.headers['user-agent'] || '',
		};
		fs.writeSync(logFd, JSON.stringify(entry) + '\n');
		if (url.pathname === '/audio/tone.mp3' && req.method === 'GET' && mp3) {
			res.writeHead(200, { 'Content-Type': 'audio/mpeg', 'Content-Length': mp3.length });
			res.end(mp3);
			return;
		}
		if (url.pathname === '/audio/tone.wav' && req.method === 'GET') {
			res.writeHead(200, { 'Content-Type': 'audio/wav', 'Content-Length': tone.length });
			res.end(tone);
			return;
		}
		const route = routes[url.pathname];
		if (!route) {
			res.writeHead(404, { 'Content-Type': 'text/plain' });
			res.end('no such route\n');
			return;
		}
		route(url.searchParams, params, res);
	});
});
// A held /slow request must not keep the server from answering others, and
// must outlive irisx's timeout.
server.requestTimeout = 0;
server.keepAliveTimeout = 5000;
server.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
