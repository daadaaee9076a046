// peer.js - what apns_server.js and fcm_server.js share: arguments, an HTTP/2 TLS server on
// 127.0.0.1 (Node's built-in http2, no npm package), a JSON-lines log, session and stream
// counting, JWT parsing, and stopping on SIGTERM or when the parent (test_push.py) goes away.
// Log modes (--log MODE, both servers): "append" (the default: each line appended to the file
// as it happens, so a test can read the log while the peer runs) or "buffered" (bench/push:
// lines kept in memory and written in 1 MiB chunks, the rest when the peer exits; the same
// lines, read them after stopping the peer).
'use strict';
const fs = require('fs');
const http2 = require('http2');

// "--name value" pairs after PORT LOGFILE.
function parseArgs(usage) {
    const a = process.argv.slice(2);
    if (a.length < 2 || (a.length - 2) % 2) {
        console.error(`usage: ${usage}`);
        process.exit(2);
    }
    const opt = { port: Number(a[0]), log: a[1] };
    for (let i = 2; i < a.length; i += 2) {
        const k = a[i].replace(/^--/, '').replace(/-/g, '_');
        opt[k === 'log' ? 'log_mode' : k] = a[i + 1]; // opt.log is LOGFILE
    }
    return opt;
}

function logger(file, mode) {
    fs.writeFileSync(file, '');
    if (mode === undefined || mode === 'append')
        return (rec) => fs.appendFileSync(file, JSON.stringify(rec) + '\n');
    if (mode !== 'buffered') {
        console.error(`--log: append or buffered, not ${mode}`);
        process.exit(2);
    }
    const fd = fs.openSync(file, 'w');
    let parts = [], size = 0;
    const flush = () => {
        if (parts.length)
            fs.writeSync(fd, parts.join(''));
        parts = [];
        size = 0;
    };
    process.on('exit', flush); // process.exit() from serve()'s stop, too
    return (rec) => {
        const line = JSON.stringify(rec) + '\n';
        parts.push(line);
        size += line.length;
        if (size >= 1 << 20)
            flush();
    };
}

function b64urlDecode(s) {
    return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

// {header, claims, input, sig} of a compact JWS, or null when it is not one.
function parseJws(jws) {
    const parts = (jws || '').split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)))
        return null;
    try {
        return {
            header: JSON.parse(b64urlDecode(parts[0]).toString('utf8')),
            claims: JSON.parse(b64urlDecode(parts[1]).toString('utf8')),
            input: Buffer.from(parts[0] + '.' + parts[1]),
            sig: b64urlDecode(parts[2]),
        };
    } catch (e) {
        return null;
    }
}

// Starts the server; handler(req, res, body Buffer, info {session, concurrent}) answers.
function serve(opt, log, handler) {
    let sessions = 0;
    const server = http2.createSecureServer({
        key: fs.readFileSync(opt.key),
        cert: fs.readFileSync(opt.cert),
        settings: { maxConcurrentStreams: 1000 },
    });
    server.on('session', (s) => {
        s.crierId = ++sessions;
        s.crierActive = 0;
        log({ event: 'session', session: s.crierId });
    });
    server.on('stream', (stream) => stream.session.crierActive++);
    server.on('request', (req, res) => {
        const session = req.stream.session;
        const info = { session: session.crierId, concurrent: session.crierActive };
        req.stream.on('close', () => session.crierActive--);
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        // a stream the client's connection lost before its body came is not a request the
        // service would act on: logged as such, not answered
        req.on('end', () => {
            if (req.aborted || !req.complete || req.stream.destroyed)
                log({ event: 'aborted', session: info.session, path: req.url });
            else
                handler(req, res, Buffer.concat(chunks), info);
        });
    });
    server.listen(opt.port, '127.0.0.1', () => console.log('listening'));
    const stop = () => process.exit(0); // the log is written synchronously: nothing to flush
    process.on('SIGTERM', stop);
    // the parent keeps our stdin open: when it dies, stdin ends
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
    const parent = process.ppid;
    setInterval(() => { if (process.ppid !== parent) stop(); }, 500).unref();
    return server;
}

// Answers after delay ms, so that streams overlap on a connection.
function answer(res, delay, status, headers, body) {
    setTimeout(() => {
        res.writeHead(status, headers);
        res.end(body === undefined ? '' : body);
    }, delay);
}

module.exports = { parseArgs, logger, parseJws, serve, answer };
