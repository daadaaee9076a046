// apns_server.js - an APNs provider API peer for test_push.py, on Node's built-in http2
//
// Usage: node apns_server.js PORT LOGFILE --cert PEM --key PEM --team TEAM_ID --key-id KEY_ID
//                            --pubkey PEM --topic BUNDLE_ID [--delay-ms N] [--log MODE]
//                            [--jwt-cache on]
// Listens on 127.0.0.1:PORT over TLS (HTTP/2 only) and prints "listening". Every request must
// be POST /3/device/TOKEN with authorization: bearer JWT, the JWT ES256 ({"alg":"ES256",
// "kid":KEY_ID}.{"iss":TEAM_ID,"iat":within an hour}) and its signature the 64-octet R||S,
// verified with the team's public key (403 MissingProviderToken / InvalidProviderToken /
// ExpiredProviderToken otherwise), apns-topic the bundle id (400 MissingTopic / BadTopic),
// apns-push-type alert and apns-priority 10 (400 InvalidPushType / BadPriority).
// Then it answers by the token's first letters:
//   bad*  400 BadDeviceToken         gone*  410 Unregistered      topic*  400 DeviceTokenNotForTopic
//   big*  413 PayloadTooLarge        slow*  429 TooManyRequests with retry-after: 7, once, then 200
//   err*  500 InternalServerError once, then 200
//   exp*  403 ExpiredProviderToken once (that JWT is then refused for every token), then 200
//   else  200 with an apns-id
// Each request is one JSON line in LOGFILE: session, concurrent (streams open on its session when
// it arrived), token, the headers that matter, jwt, body (as received, UTF-8) and the answer.
// --log buffered: the same lines, written in chunks and at exit (peer.js). --jwt-cache on: the
// parts of the check that depend only on the JWT string (its form, header, issuer, signature)
// are done once per distinct JWT and remembered (a provider token is reused for up to an
// hour); the age and ExpiredProviderToken checks still run for every request. Default: every
// request's JWT is parsed and its signature verified again.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const { parseArgs, logger, parseJws, serve, answer } = require('./peer');

const opt = parseArgs('node apns_server.js PORT LOGFILE --cert PEM --key PEM --team ID ' +
                      '--key-id ID --pubkey PEM --topic TOPIC [--delay-ms N] [--log MODE] ' +
                      '[--jwt-cache on]');
const log = logger(opt.log, opt.log_mode);
const pub = crypto.createPublicKey(fs.readFileSync(opt.pubkey));
const delay = Number(opt.delay_ms || 10);
const seen = new Set();        // tokens that had their one special answer
const refusedJwts = new Set(); // JWTs answered ExpiredProviderToken

const jwtCache = opt.jwt_cache === 'on' ? new Map() : null; // JWT -> {iat} or {bad: true}

// What a JWT says, as far as its string alone decides: {iat} when its form, header, issuer and
// signature are right, {bad: true} otherwise.
function readJwt(s) {
    const jws = parseJws(s);
    if (!jws || jws.header.alg !== 'ES256' || jws.header.kid !== opt.key_id ||
        jws.claims.iss !== opt.team || !Number.isInteger(jws.claims.iat) || jws.sig.length !== 64)
        return { bad: true };
    if (!crypto.verify('sha256', jws.input, { key: pub, dsaEncoding: 'ieee-p1363' }, jws.sig))
        return { bad: true };
    return { iat: jws.claims.iat };
}

// The reason the provider token is refused, or null.
function checkJwt(auth) {
    const m = /^bearer (\S+)$/.exec(auth || '');
    if (!m)
        return 'MissingProviderToken';
    let j = jwtCache ? jwtCache.get(m[1]) : undefined;
    if (!j) {
        j = readJwt(m[1]);
        if (jwtCache)
            jwtCache.set(m[1], j);
    }
    if (j.bad)
        return 'InvalidProviderToken';
    if (Math.abs(Date.now() / 1000 - j.iat) > 3600 || refusedJwts.has(m[1]))
        return 'ExpiredProviderToken';
    return null;
}

function once(token) {
    if (seen.has(token))
        return false;
    seen.add(token);
    return true;
}

serve(opt, log, (req, res, body, info) => {
    const h = req.headers;
    const jwt = (h.authorization || '').replace(/^bearer /, '');
    const m = /^\/3\/device\/([^/]+)$/.exec(req.url);
    const token = m ? m[1] : null;
    let status = 200, reason = null, extra = {};
    const refusal = checkJwt(h.authorization);
    if (req.method !== 'POST' || !token)
        [status, reason] = [req.method !== 'POST' ? 405 : 404, req.method !== 'POST' ? 'MethodNotAllowed' : 'BadPath'];
    else if (refusal)
        [status, reason] = [403, refusal];
    else if (!h['apns-topic'])
        [status, reason] = [400, 'MissingTopic'];
    else if (h['apns-topic'] !== opt.topic)
        [status, reason] = [400, 'BadTopic'];
    else if (h['apns-push-type'] !== 'alert')
        [status, reason] = [400, 'InvalidPushType'];
    else if (h['apns-priority'] !== '10')
        [status, reason] = [400, 'BadPriority'];
    else if (token.startsWith('bad'))
        [status, reason] = [400, 'BadDeviceToken'];
    else if (token.startsWith('gone'))
        [status, reason, extra] = [410, 'Unregistered', { timestamp: Date.now() }];
    else if (token.startsWith('topic'))
        [status, reason] = [400, 'DeviceTokenNotForTopic'];
    else if (token.startsWith('big'))
        [status, reason] = [413, 'PayloadTooLarge'];
    else if (token.startsWith('slow') && once(token))
        [status, reason] = [429, 'TooManyRequests'];
    else if (token.startsWith('err') && once(token))
        [status, reason] = [500, 'InternalServerError'];
    else if (token.startsWith('exp') && once(token)) {
        [status, reason] = [403, 'ExpiredProviderToken'];
        refusedJwts.add(jwt);
    }
    const apnsId = crypto.randomUUID().toUpperCase();
    const headers = { 'apns-id': apnsId };
    if (status === 429)
        headers['retry-after'] = '7';
    log({
        session: info.session, concurrent: info.concurrent, method: req.method, path: req.url,
        token, topic: h['apns-topic'], push_type: h['apns-push-type'],
        priority: h['apns-priority'], content_type: h['content-type'], jwt,
        body: body.toString('utf8'), status, reason, apns_id: status === 200 ? apnsId : null,
    });
    if (status === 200)
        answer(res, delay, 200, headers);
    else
        answer(res, delay, status, { ...headers, 'content-type': 'application/json' },
               JSON.stringify({ reason, ...extra }));
});
