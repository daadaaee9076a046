// smsc.js - an SMSC simulator for test_smsc.py, on node-smpp (npm "smpp" 0.5.1) as a server
//
// Usage: node smsc.js PORT LOGFILE [--system-id ID] [--password PW] [--throttle-every N]
//                     [--drop-after M] [--ignore K] [--no-receipts]
//                     [--undeliverable SUFFIX] [--reply SUFFIX TEXT]
//                     [--resp-delay MS] [--log-summary] [--exit-after N]
// Listens on 127.0.0.1:PORT and prints "listening" when ready. Accepts bind_transceiver and
// bind_transmitter with the given system_id/password (default "crier"/"secret"; anything else
// gets ESME_RINVSYSID / ESME_RINVPASWD and the connection is closed). Every submit_sm is
// appended to LOGFILE as one JSON line, with its fields read from the raw PDU bytes (not from
// node-smpp's decoded text, so the test sees exactly what crier sent), and the status this
// SMSC answered: 0 with a message id, 88 (ESME_RTHROTTLED) on every Nth submit, or null when
// it did not answer: the --drop-after M-th submit, after which this connection is closed
// once (with end(), so the resps already written still reach crier: a resp lost in transit
// would make a duplicate that is crier's to avoid only when it can), anything that arrived
// behind it, and the --ignore K-th submit (left unanswered on a live connection). 11 (ESME_RINVDSTADR) for destinations starting
// "999". When registered_delivery asks for one and the session can receive, an accepted
// submit is followed by a deliver_sm receipt (esm_class 0x04, receipted_message_id and
// message_state TLVs, and the Appendix B text). Binds, unbinds and enquire_links are logged
// too ({"event": ...}). Destinations ending in the --undeliverable SUFFIX get an UNDELIV
// receipt (message_state 5, err:001) instead; after the receipt of a message to a destination
// ending in the --reply SUFFIX, that phone answers TEXT (a mobile-originated deliver_sm,
// esm_class 0, GSM 7-bit when ASCII, else UCS-2), once per destination. Not a real SMSC: no routing, no storage, no data_sm.
// --exit-after N: the N-th submit_sm is logged unanswered and the process exits (an SMSC that
// goes away for good, until a new one is started on the same port).
// For benchmarks (bench/sms): --resp-delay MS answers each submit_sm MS milliseconds late (a
// network round trip; its receipt follows the resp), in order. --log-summary logs the session
// events only, and, instead of a line per submit_sm, counts them; on SIGTERM it writes
// LOGFILE.summary, one JSON object: submits, accepted (status 0), destinations (distinct) and
// data_coding (submits per value).
'use strict';
const fs = require('fs');
const smpp = require('smpp');
const { PDU } = require('smpp/lib/pdu');

const args = process.argv.slice(2);
if (args.length < 2) {
    console.error('usage: node smsc.js PORT LOGFILE [options]');
    process.exit(2);
}
const port = Number(args[0]);
const logfile = args[1];
const opt = { systemId: 'crier', password: 'secret', throttleEvery: 0, dropAfter: 0,
              ignore: 0, receipts: true, undeliverable: null, reply: null, replyText: '',
              respDelay: 0, logSummary: false };
for (let i = 2; i < args.length; i++) {
    const a = args[i];
    if (a === '--system-id') opt.systemId = args[++i];
    else if (a === '--password') opt.password = args[++i];
    else if (a === '--throttle-every') opt.throttleEvery = Number(args[++i]);
    else if (a === '--drop-after') opt.dropAfter = Number(args[++i]);
    else if (a === '--exit-after') opt.exitAfter = Number(args[++i]);
    else if (a === '--ignore') opt.ignore = Number(args[++i]);
    else if (a === '--no-receipts') opt.receipts = false;
    else if (a === '--undeliverable') opt.undeliverable = args[++i];
    else if (a === '--reply') { opt.reply = args[++i]; opt.replyText = args[++i]; }
    else if (a === '--resp-delay') opt.respDelay = Number(args[++i]);
    else if (a === '--log-summary') opt.logSummary = true;
    else { console.error(`smsc.js: unknown option ${a}`); process.exit(2); }
}

// Keep each PDU's raw bytes: node-smpp decodes short_message into text, which would hide
// the UDH and the exact septets.
const fromBuffer = PDU.prototype.fromBuffer;
PDU.prototype.fromBuffer = function (buffer) {
    this.raw = Buffer.from(buffer);
    return fromBuffer.call(this, buffer);
};

// submit_sm body (SMPP 3.4 §4.4.1): C-Octet Strings and octets in wire order.
function parseSubmit(raw) {
    let off = 16;
    const cstr = () => {
        const end = raw.indexOf(0, off);
        const s = raw.toString('latin1', off, end);
        off = end + 1;
        return s;
    };
    const u8 = () => raw[off++];
    const f = {};
    f.service_type = cstr();
    f.source_ton = u8(); f.source_npi = u8(); f.source = cstr();
    f.dest_ton = u8(); f.dest_npi = u8(); f.destination = cstr();
    f.esm_class = u8(); f.protocol_id = u8(); f.priority = u8();
    f.schedule = cstr(); f.validity = cstr();
    f.registered_delivery = u8(); f.replace = u8(); f.data_coding = u8(); f.default_msg = u8();
    const len = u8();
    f.short_message = raw.slice(off, off + len).toString('hex');
    return f;
}

function log(obj) {
    fs.appendFileSync(logfile, JSON.stringify(obj) + '\n');
}

// --log-summary: submit_sm records counted instead of logged
const summary = { submits: 0, accepted: 0, destinations: 0, data_coding: {} };
const summaryDests = new Set();
function logSubmit(rec) {
    if (!opt.logSummary) {
        log(rec);
        return;
    }
    summary.submits++;
    if (rec.status === 0) summary.accepted++;
    summaryDests.add(rec.destination);
    summary.data_coding[rec.data_coding] = (summary.data_coding[rec.data_coding] || 0) + 1;
}

let submits = 0, ids = 0, sessions = 0, dropped = false;
const replied = new Set();

const server = smpp.createServer(session => {
    const sid = ++sessions;
    let bound = null, dead = false, waiting = 0;
    session.on('error', () => { dead = true; });
    session.on('close', () => { dead = true; });

    const onBind = pdu => {
        const ok = pdu.system_id === opt.systemId && pdu.password === opt.password;
        log({ event: pdu.command, session: sid, system_id: pdu.system_id, ok });
        if (!ok) {
            const status = pdu.system_id !== opt.systemId ? 0x0F : 0x0E;
            session.send(pdu.response({ command_status: status }));
            session.close();
            return;
        }
        bound = pdu.command;
        session.send(pdu.response({ system_id: 'SIMSC' }));
    };
    session.on('bind_transceiver', onBind);
    session.on('bind_transmitter', onBind);
    session.on('bind_receiver', onBind);

    session.on('submit_sm', pdu => {
        const f = parseSubmit(pdu.raw);
        // unanswered: submits of this session still waiting for their resp (a client that
        // uses its window has several)
        const rec = Object.assign({ session: sid, sequence: pdu.sequence_number, t: Date.now(),
                                    unanswered: waiting }, f);
        if (dead || !bound) {
            rec.status = null;
            logSubmit(rec);
            return;
        }
        submits++;
        if (opt.exitAfter && submits === opt.exitAfter) {
            // the SMSC goes away for good: this submit unanswered, no more connections
            rec.status = null;
            logSubmit(rec);
            process.exit(0);
        }
        if (opt.dropAfter && submits === opt.dropAfter && !dropped) {
            dropped = true;
            dead = true;
            rec.status = null;
            logSubmit(rec);
            session.close();
            return;
        }
        if (submits === opt.ignore) {
            rec.status = null;
            logSubmit(rec);
            return;
        }
        if (f.destination.startsWith('999')) {
            rec.status = 0x0B;
        } else if (opt.throttleEvery && submits % opt.throttleEvery === 0) {
            rec.status = 0x58;
        } else {
            rec.status = 0;
            rec.message_id = 'M' + (++ids).toString(16).toUpperCase().padStart(6, '0');
        }
        logSubmit(rec);
        if (opt.respDelay > 0) {
            waiting++;
            setTimeout(() => { waiting--; if (!dead) answerSubmit(pdu, f, rec); }, opt.respDelay);
            return;
        }
        answerSubmit(pdu, f, rec);
    });

    // the submit_sm_resp, then the receipt when one is asked for
    function answerSubmit(pdu, f, rec) {
        if (rec.status !== 0) {
            session.send(pdu.response({ command_status: rec.status }));
            return;
        }
        session.send(pdu.response({ message_id: rec.message_id }));
        if (opt.receipts && (f.registered_delivery & 1) && bound !== 'bind_transmitter') {
            const undeliv = opt.undeliverable && f.destination.endsWith(opt.undeliverable);
            const text = `id:${rec.message_id} sub:001 dlvrd:${undeliv ? '000' : '001'} ` +
                `submit date:2401011200 done date:2401011201 ` +
                `stat:${undeliv ? 'UNDELIV' : 'DELIVRD'} err:${undeliv ? '001' : '000'} text:`;
            setImmediate(() => {
                if (dead) return;
                session.deliver_sm({
                    source_addr_ton: f.dest_ton, source_addr_npi: f.dest_npi,
                    source_addr: f.destination,
                    dest_addr_ton: f.source_ton, dest_addr_npi: f.source_npi,
                    destination_addr: f.source,
                    esm_class: 0x04, data_coding: 0,
                    short_message: Buffer.from(text, 'latin1'),
                    receipted_message_id: rec.message_id,
                    message_state: undeliv ? 5 : 2,
                });
                if (opt.reply && f.destination.endsWith(opt.reply) && !replied.has(f.destination)) {
                    replied.add(f.destination);
                    const ascii = /^[\x20-\x7e]*$/.test(opt.replyText);
                    log({ event: 'reply', session: sid, from: f.destination, text: opt.replyText });
                    session.deliver_sm({
                        source_addr_ton: 1, source_addr_npi: 1, source_addr: f.destination,
                        dest_addr_ton: f.source_ton, dest_addr_npi: f.source_npi,
                        destination_addr: f.source, esm_class: 0,
                        data_coding: ascii ? 0 : 8,
                        short_message: ascii ? Buffer.from(opt.replyText, 'latin1')
                            : Buffer.from(opt.replyText, 'utf16le').swap16(),
                    });
                }
            });
        }
    }
    session.on('enquire_link', pdu => {
        log({ event: 'enquire_link', session: sid });
        session.send(pdu.response());
    });
    session.on('unbind', pdu => {
        log({ event: 'unbind', session: sid });
        session.send(pdu.response());
        session.close();
    });
});

server.listen(port, '127.0.0.1', () => {
    process.stdout.write('listening\n');
});
process.on('SIGTERM', () => {
    if (opt.logSummary) {
        summary.destinations = summaryDests.size;
        fs.writeFileSync(logfile + '.summary', JSON.stringify(summary) + '\n');
    }
    process.exit(0);
});
