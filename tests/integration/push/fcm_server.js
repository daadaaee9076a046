// fcm_server.js - an FCM HTTP v1 peer and its OAuth2 token endpoint for test_push.py, on
// Node's built-in http2
//
// Usage: node fcm_server.js PORT LOGFILE --cert PEM --key PEM --pubkey PEM --client-email EMAIL
//                           --project ID [--token-life S] [--delay-ms N] [--log MODE]
// Listens on 127.0.0.1:PORT over TLS and prints "listening".
// POST /token: grant_type urn:ietf:params:oauth:grant-type:jwt-bearer and an RS256 assertion,
// verified with the service account's public key, with iss = EMAIL, scope = firebase.messaging,
// aud = https://127.0.0.1:PORT/token, iat within a minute of now and exp = iat + 3600; answers
// {"access_token","expires_in": S (default 3600),"token_type":"Bearer"}, or 400 invalid_grant.
// POST /v1/projects/ID/messages:send: the Bearer token must be one this peer issued and did not
// revoke (401 UNAUTHENTICATED otherwise); the body {"message":{"token":T,...}}; answers by T:
//   gone*      404 NOT_FOUND, UNREGISTERED      bad*  400 INVALID_ARGUMENT (the token)
//   payload*   400 INVALID_ARGUMENT (a field of the message, not the token)
//   mismatch*  403 SENDER_ID_MISMATCH           slow* 429 QUOTA_EXCEEDED, retry-after: 3, once
//   err*       503 UNAVAILABLE once             exp*  401 once: revokes the access token it carried
//   else       200 {"name":"projects/ID/messages/N"}
// One JSON line per request in LOGFILE ({"event":"token",...} for the token endpoint).
// --log buffered: the same lines, written in chunks and at exit (peer.js).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const { parseArgs, logger, parseJws, serve, answer } = require('./peer');

const opt = parseArgs('node fcm_server.js PORT LOGFILE --cert PEM --key PEM --pubkey PEM ' +
                      '--client-email EMAIL --project ID [--token-life S] [--delay-ms N] ' +
                      '[--log MODE]');
const log = logger(opt.log, opt.log_mode);
const pub = crypto.createPublicKey(fs.readFileSync(opt.pubkey));
const life = Number(opt.token_life || 3600);
const delay = Number(opt.delay_ms || 10);
const aud = `https://127.0.0.1:${opt.port}/token`;
const tokens = new Map(); // access token -> its number; revoked ones are deleted
const seen = new Set();
let issued = 0, sent = 0;

function fcmError(code, status, message, errorCode, extraDetails) {
    const details = errorCode ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError',
                                   errorCode }] : [];
    return JSON.stringify({ error: { code, message, status,
                                     details: details.concat(extraDetails || []) } });
}

// The reason an assertion is refused, or null.
function checkAssertion(form) {
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
        return 'unsupported grant_type';
    const jws = parseJws(form.get('assertion'));
    if (!jws || jws.header.alg !== 'RS256' || jws.header.typ !== 'JWT')
        return 'Invalid JWT header';
    if (!crypto.verify('sha256', jws.input, pub, jws.sig))
        return 'Invalid JWT Signature.';
    const c = jws.claims, now = Date.now() / 1000;
    if (c.iss !== opt.client_email)
        return 'Invalid issuer';
    if (c.scope !== 'https://www.googleapis.com/auth/firebase.messaging')
        return 'Invalid scope';
    if (c.aud !== aud)
        return 'Invalid audience';
    if (!Number.isInteger(c.iat) || Math.abs(now - c.iat) > 60 || c.exp !== c.iat + 3600)
        return 'Invalid JWT: iat/exp';
    return null;
}

function once(token) {
    if (seen.has(token))
        return false;
    seen.add(token);
    return true;
}

function tokenEndpoint(req, res, body, info) {
    const why = checkAssertion(new URLSearchParams(body.toString('utf8')));
    log({ event: 'token', session: info.session, ok: !why, reason: why,
          content_type: req.headers['content-type'] });
    if (why)
        return answer(res, delay, 400, { 'content-type': 'application/json' },
                      JSON.stringify({ error: 'invalid_grant', error_description: why }));
    const tok = `ya29.test-${++issued}-${crypto.randomBytes(8).toString('hex')}`;
    tokens.set(tok, issued);
    answer(res, delay, 200, { 'content-type': 'application/json' },
           JSON.stringify({ access_token: tok, expires_in: life, token_type: 'Bearer' }));
}

function send(req, res, body, info) {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization || '');
    const bearer = m ? m[1] : null;
    let msg = null;
    try { msg = JSON.parse(body.toString('utf8')).message; } catch (e) { msg = null; }
    const token = msg && typeof msg.token === 'string' ? msg.token : null;
    const tokenNo = bearer && tokens.has(bearer) ? tokens.get(bearer) : null; // before a revocation
    let status = 200, out;
    if (!bearer || !tokens.has(bearer)) {
        status = 401;
        out = fcmError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    } else if (!token) {
        status = 400;
        out = fcmError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.', 'INVALID_ARGUMENT');
    } else if (token.startsWith('gone')) {
        status = 404;
        out = fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED');
    } else if (token.startsWith('bad')) {
        status = 400;
        out = fcmError(400, 'INVALID_ARGUMENT',
                       'The registration token is not a valid FCM registration token',
                       'INVALID_ARGUMENT');
    } else if (token.startsWith('payload')) {
        status = 400;
        out = fcmError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unknown name "x"',
                       null, [{ '@type': 'type.googleapis.com/google.rpc.BadRequest',
                                fieldViolations: [{ field: 'message.x',
                                                    description: 'Unknown name "x"' }] }]);
    } else if (token.startsWith('mismatch')) {
        status = 403;
        out = fcmError(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH');
    } else if (token.startsWith('slow') && once(token)) {
        status = 429;
        out = fcmError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.', 'QUOTA_EXCEEDED');
    } else if (token.startsWith('err') && once(token)) {
        status = 503;
        out = fcmError(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE');
    } else if (token.startsWith('exp') && once(token)) {
        tokens.delete(bearer); // as if it had expired on Google's side
        status = 401;
        out = fcmError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    }
    const name = status === 200 ? `projects/${opt.project}/messages/${1000 + ++sent}` : null;
    log({ session: info.session, concurrent: info.concurrent, path: req.url, token,
          access_token_no: tokenNo,
          bearer, content_type: req.headers['content-type'], body: body.toString('utf8'), status,
          name });
    const headers = { 'content-type': 'application/json; charset=UTF-8' };
    if (status === 429)
        headers['retry-after'] = '3';
    answer(res, delay, status, headers, status === 200 ? JSON.stringify({ name }) : out);
}

serve(opt, log, (req, res, body, info) => {
    if (req.method === 'POST' && req.url === '/token')
        return tokenEndpoint(req, res, body, info);
    if (req.method === 'POST' && req.url === `/v1/projects/${opt.project}/messages:send`)
        return send(req, res, body, info);
    log({ session: info.session, path: req.url, status: 404 });
    answer(res, delay, 404, { 'content-type': 'application/json' },
           fcmError(404, 'NOT_FOUND', 'no such method'));
});
