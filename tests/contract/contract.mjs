// contract.mjs - WAHA's contract, checked by machine.
//
// Copyright (c) 2026 the Wharf authors. Apache-2.0.
//
// node contract.mjs OPENAPI_JSON TRAFFIC_DIR
//
// Validates the traffic the integration tests recorded (harness.py,
// WHARF_CONTRACT_DIR/*.jsonl) against WAHA's OpenAPI document with a real
// JSON Schema validator (Ajv, draft 2020-12, as OpenAPI 3.1 uses):
// - every response of a WAHA route Wharf serves: its status must be one the
//   document declares for the route (2xx), its JSON body must match the
//   schema of that status; error statuses must match WAHA's error bodies
//   (WAHA_ERRORS below: the document declares none);
// - every webhook body against the envelope schema of its event (the
//   document's top-level `webhooks` section).
// WAHA's generator defects are patched in one place (patchDocument) and
// nothing else is relaxed; the deviations WAHA's own engines make are listed
// in EXCEPTIONS with their reasons. Prints how many routes and events were
// checked. Exit 0 when everything matches, 1 otherwise, 77 (skip) when npm
// could not be reached to install Ajv.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [docPath, trafficDir] = process.argv.slice(2);
if (!docPath || !trafficDir) {
    console.error('usage: node contract.mjs OPENAPI_JSON TRAFFIC_DIR');
    process.exit(2);
}
const require = createRequire(path.join(process.cwd(), 'package.json'));
let Ajv2020, addFormats;
try {
    Ajv2020 = require('ajv/dist/2020').default;
    addFormats = require('ajv-formats').default;
} catch (e) {
    const status = fs.existsSync('STATUS') ? fs.readFileSync('STATUS', 'utf8').trim() : '';
    if (status === 'unreachable') {
        console.log('SKIP: npm registry unreachable, Ajv not installed');
        process.exit(77);
    }
    throw e;
}

const SESSION_STATUSES = ['STOPPED', 'STARTING', 'SCAN_QR_CODE', 'PASSKEY_REQUIRED',
    'PASSKEY_CONFIRMATION_REQUIRED', 'WORKING', 'FAILED'];

// --- WAHA's generator defects: the one place they are patched -----------
//
// 1. every webhook envelope's `event` is an enum of strings typed "object":
//    typed "string".
// 2. `required: true` on a property (NestJS output for a nested property):
//    the property is added to its parent's `required` list instead.
// 3. `nullable: true` without `type` (next to allOf/$ref): rewritten as
//    anyOf [null, the schema] (Ajv accepts `nullable` only beside `type`).
// 4. WebhookConfig.events items typed "object" (they are event names):
//    typed "string".
// Nothing else in the document is changed.
const patched = [];

function patchDocument(doc) {
    const walk = (node, where) => {
        if (Array.isArray(node)) {
            node.forEach((n, i) => walk(n, `${where}/${i}`));
            return;
        }
        if (!node || typeof node !== 'object') {
            return;
        }
        if (node.type === 'object' && Array.isArray(node.enum) &&
            node.enum.every((v) => typeof v === 'string')) {
            node.type = 'string';
            patched.push(`event enum typed object -> string: ${where}`);
        }
        if (node.properties && typeof node.properties === 'object') {
            for (const [name, prop] of Object.entries(node.properties)) {
                if (prop && prop.required === true) {
                    delete prop.required;
                    node.required = [...(node.required || []), name];
                    patched.push(`required: true -> parent required: ${where}/properties/${name}`);
                }
            }
        }
        if (node.nullable === true && node.type === undefined) {
            delete node.nullable;
            const rest = { ...node };
            for (const k of Object.keys(node)) {
                delete node[k];
            }
            node.anyOf = [{ type: 'null' }, rest];
            patched.push(`nullable without type -> anyOf [null, ...]: ${where}`);
        }
        for (const [k, v] of Object.entries(node)) {
            walk(v, `${where}/${k}`);
        }
    };
    walk(doc, '#');
    const events = doc.components.schemas.WebhookConfig.properties.events;
    if (events.items.type === 'object') {
        events.items = { type: 'string' };
        patched.push('WebhookConfig.events items typed object -> string');
    }
    return doc;
}

// --- WAHA's error bodies (its exception filter; the document has none) ---
const WAHA_ERRORS = {
    // HttpException passed through by NestJS: 400, 401, 404, 405, 409, ...
    http: {
        type: 'object',
        required: ['statusCode', 'message'],
        properties: {
            statusCode: { type: 'integer' },
            message: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
            error: { type: 'string' },
        },
    },
    // 422 when the session is not in a status the call needs
    // (SessionManager: UnprocessableEntityException with this object).
    sessionStatus: {
        type: 'object',
        required: ['error', 'session', 'status', 'expected'],
        additionalProperties: false,
        properties: {
            error: { type: 'string' },
            session: { type: 'string' },
            status: { enum: SESSION_STATUSES },
            expected: { type: 'array', minItems: 1, items: { enum: SESSION_STATUSES } },
        },
    },
};

// --- What WAHA's own engines do against the schema ----------------------
// Each exception removes one field of one value before validation, only when
// it has exactly the listed value; every use is counted and printed.
const EXCEPTIONS = [
    {
        id: 'me-null',
        reason: 'WAHA sends me: null (envelopes, SessionInfo) while the session ' +
            'is not logged in; the schema has me as a non-nullable MeInfo',
    },
    {
        id: 'getme-null',
        reason: 'GET /api/sessions/{session}/me answers null when not logged in ' +
            '(WAHA returns the session\'s null me); the schema declares MeInfo',
    },
    {
        id: 'replyTo-null',
        reason: 'WAHA engines send replyTo: null on messages that are not replies; ' +
            'the schema has replyTo as a non-nullable ReplyToMessage',
    },
    {
        id: 'media-null',
        reason: 'WAHA engines send media: null on messages without media ' +
            '(hasMedia false); the schema has media as a non-nullable WAMedia',
    },
    {
        id: 'mediaUrl-absent',
        reason: 'WAHA sets the deprecated mediaUrl from media.url (media?.url), so it ' +
            'is absent unless a media file was downloaded; the schema lists it as required',
    },
    {
        id: 'participant-null',
        reason: 'outside groups WAHA\'s engines have no participant and send null ' +
            '(messages and acks); the schema lists it as a required string ' +
            '("For groups - participant who sent the message")',
    },
    {
        id: 'groups-array',
        reason: 'GET /api/{session}/groups: WAHA\'s GOWS and WEBJS engines answer an ' +
            'array of groups; the document types the body "object" (NOWEB\'s map by id)',
    },
    {
        id: 'source-absent',
        reason: 'the schema itself says source is "available in events only and only ' +
            'fromMe: true messages", yet lists it as required',
    },
];
const exceptionUses = Object.fromEntries(EXCEPTIONS.map((e) => [e.id, 0]));

function dropNull(obj, field, id) {
    if (obj && typeof obj === 'object' && !Array.isArray(obj) && obj[field] === null) {
        delete obj[field];
        exceptionUses[id] += 1;
    }
}

// participant: null in a chat that is not a group (neither end a @g.us):
// the value is removed and the field filled as the schema wants.
function dropDirectParticipant(m) {
    const group = [m.from, m.to].some((x) => typeof x === 'string' && x.endsWith('@g.us'));
    if (!group && m.participant === null) {
        m.participant = '';
        exceptionUses['participant-null'] += 1;
    }
}

// The exceptions of WAMessage. The absent-field ones fill the field in the
// copy being validated only in the case the reason names.
function fixMessage(m) {
    if (!m || typeof m !== 'object' || Array.isArray(m)) {
        return;
    }
    dropNull(m, 'replyTo', 'replyTo-null');
    if (m.hasMedia === false) {
        dropNull(m, 'media', 'media-null');
    }
    const mediaUrl = m.media && typeof m.media === 'object' ? m.media.url : undefined;
    if (!('mediaUrl' in m) && mediaUrl === undefined) {
        m.mediaUrl = '';
        exceptionUses['mediaUrl-absent'] += 1;
    }
    dropDirectParticipant(m);
    if (!('source' in m) && m.fromMe === false) {
        m.source = 'app';
        exceptionUses['source-absent'] += 1;
    }
}

// Applies EXCEPTIONS to a response body of a route (by schema name).
function applyResponseExceptions(schemaRef, body) {
    const name = schemaRef || '';
    if (name.endsWith('/SessionInfo')) {
        dropNull(body, 'me', 'me-null');
    } else if (name === 'SessionInfo[]' && Array.isArray(body)) {
        body.forEach((s) => dropNull(s, 'me', 'me-null'));
    } else if (name.endsWith('/WAMessage')) {
        fixMessage(body);
    } else if (name === 'WAMessage[]' && Array.isArray(body)) {
        body.forEach(fixMessage);
    } else if (name === 'ChannelMessage[]' && Array.isArray(body)) {
        // channel posts (preview) carry WAHA's WAMessage
        body.forEach((x) => fixMessage(x && x.message));
    }
    return body;
}

function applyEnvelopeExceptions(env) {
    dropNull(env, 'me', 'me-null');
    if (['message', 'message.any', 'message.edited'].includes(env.event)) {
        // message.edited carries the WAMessage fields of the edit
        fixMessage(env.payload);
    } else if (env.event === 'message.revoked' && env.payload &&
               typeof env.payload === 'object') {
        fixMessage(env.payload.before);
        fixMessage(env.payload.after);
    } else if (env.event === 'message.reaction' && env.payload &&
               typeof env.payload === 'object') {
        // the reaction's own message header, as WAHA's engines fill it
        dropDirectParticipant(env.payload);
        if (!('source' in env.payload) && env.payload.fromMe === false) {
            env.payload.source = 'app';
            exceptionUses['source-absent'] += 1;
        }
    } else if (['message.ack', 'message.ack.group'].includes(env.event) &&
               env.payload && typeof env.payload === 'object') {
        dropDirectParticipant(env.payload);
    }
    return env;
}

// Wharf's own routes under /api that WAHA does not have (not checked
// against WAHA's document; see services/api-gateway/README.md).
const WHARF_EXTENSIONS = [
    ['GET', '/api/openapi.json'],
    // WAHA's deprecated checkNumberStatus: dropped from its 2026 document,
    // still called by old clients (same answer as /api/contacts/check-exists)
    ['GET', '/api/checkNumberStatus'],
    // WAHA's deprecated reply (sendText's body with reply_to), dropped too
    ['POST', '/api/reply'],
    // WAHA's deprecated sendLinkPreview {chatId, url, title} and GET
    // /api/messages?chatId=: dropped from its document, kept for old clients
    ['POST', '/api/sendLinkPreview'],
    ['GET', '/api/messages'],
    // WAHA serves media files here, but its document lists no such route
    ['GET', '/api/files/{filename}'],
    ['GET', '/api/files/{session}/{filename}'],
    ['GET', '/api/{session}/events'],
    ['GET', '/api/{session}/webhooks/deliveries'],
    ['POST', '/api/{session}/webhooks/deliveries/replay'],
    ['GET', '/api/{session}/webhooks/deliveries/{id}'],
    ['POST', '/api/{session}/webhooks/deliveries/{id}/replay'],
    // app-state chat actions WAHA's document has no route for
    ['POST', '/api/{session}/chats/{chatId}/pin'],
    ['POST', '/api/{session}/chats/{chatId}/unpin'],
    ['POST', '/api/{session}/chats/{chatId}/mute'],
    ['POST', '/api/{session}/chats/{chatId}/unmute'],
    // Session-path forms of WAHA's /api/contacts/... routes (the issue asks
    // for /api/{session}/contacts/*; WAHA has only GET .../contacts/{id})
    ['GET', '/api/{session}/contacts/{id}/about'],
    ['GET', '/api/{session}/contacts/{id}/profile-picture'],
    ['POST', '/api/{session}/contacts/{id}/block'],
    ['POST', '/api/{session}/contacts/{id}/unblock'],
    // WAHA's route (api-surface.md 5.5), not in the extract of its document
    ['POST', '/api/{session}/calls/reject'],
    // Join requests and the approval setting: WAHA 2026.8.2's routes (its
    // release notes); the stored extract of its document predates them
    ['GET', '/api/{session}/groups/{id}/settings/security/membership-approval'],
    ['PUT', '/api/{session}/groups/{id}/settings/security/membership-approval'],
    ['GET', '/api/{session}/groups/{id}/participants/join-requests'],
    ['POST', '/api/{session}/groups/{id}/participants/join-requests/approve'],
    ['POST', '/api/{session}/groups/{id}/participants/join-requests/reject'],
    // WAHA's Keys API: its request fields come from WAHA's security page;
    // the stored extract of WAHA's document has no schema for it yet
    // (tests/integration/test_gateway_keys.py checks the shapes)
    ['GET', '/api/keys'],
    ['POST', '/api/keys'],
    ['PUT', '/api/keys/{id}'],
    ['DELETE', '/api/keys/{id}'],
    // WAHA's presence, typing and read routes (api-surface.md 4 and 5.1),
    // not yet in the stored extract of its document: their shapes are
    // checked field by field by tests/integration/test_presence.py
    ['POST', '/api/{session}/presence'],
    ['GET', '/api/{session}/presence'],
    ['GET', '/api/{session}/presence/{chatId}'],
    ['POST', '/api/{session}/presence/{chatId}/subscribe'],
    ['POST', '/api/startTyping'],
    ['POST', '/api/stopTyping'],
    ['POST', '/api/{session}/chats/{chatId}/messages/read'],
    ['GET', '/api/{session}/new-message-id'],
    // WAHA's status routes (api-surface.md 4) and group picture routes
    // (api-surface.md 5.3), not yet in the stored extract of its
    // document: tests/integration/test_status.py and test_groups_ops.py
    // check their shapes field by field
    ['POST', '/api/{session}/status/text'],
    ['POST', '/api/{session}/status/image'],
    ['POST', '/api/{session}/status/voice'],
    ['POST', '/api/{session}/status/video'],
    ['POST', '/api/{session}/status/delete'],
    ['GET', '/api/{session}/status/new-message-id'],
    ['GET', '/api/{session}/groups/{id}/picture'],
    ['PUT', '/api/{session}/groups/{id}/picture'],
    ['DELETE', '/api/{session}/groups/{id}/picture'],
    // WAHA's chat picture (api-surface.md 5.1), not in the stored extract
    // either: tests/integration/test_appstate.py checks its shape
    ['GET', '/api/{session}/chats/{chatId}/picture'],
    // Wharf's own: neither WAHA nor Wawp documents a sticker route
    ['POST', '/api/sendSticker'],
    ['PUT', '/api/{session}/contacts/{chatId}'],
    // Wharf's own: WAHA has no recording routes
    ['POST', '/api/startRecording'],
    ['POST', '/api/stopRecording'],
];

// Wharf's query flags on WAHA routes: such a request is an extension (its
// answer is Wharf's own), the same route without the flag is WAHA's.
const WHARF_QUERY_EXTENSIONS = [
    // delete for me: WAHA has no route for app state's deleteMessageForMe
    // (its DELETE revokes for everyone); forEveryone=false answers
    // {success: true} (tests/integration/test_appstate.py checks it)
    ['DELETE', '/api/{session}/chats/{chatId}/messages/{messageId}', 'forEveryone'],
];

function isQueryExtension(method, p, query) {
    const params = new URLSearchParams(query || '');
    return WHARF_QUERY_EXTENSIONS.some(([m, t, name]) =>
        params.has(name) && findRoute([[m, t]], method, p));
}

// WAHA events not yet in the stored extract of its document (checked
// field by field by tests/integration/test_presence.py, and
// group.v2.participants.join-request, WAHA 2026.8.2's release notes, by
// tests/integration/test_group_requests.py); engine.event is WAHA's raw
// debugging event, which has no fixed payload.
const EVENTS_NOT_IN_EXTRACT = new Set(['presence.update', 'message.waiting',
    'group.v2.participants.join-request', 'engine.event']);

// Synthetic events the webhook tests inject straight into the store with
// tests/tools/event-gen (payload {n, sent_ms}): not Wharf engine output.
function isSynthetic(env) {
    const p = env && env.payload;
    return p && typeof p === 'object' && !Array.isArray(p) &&
        Object.keys(p).sort().join(',') === 'n,sent_ms';
}

// --- Matching a request to a route template -----------------------------
function splitPath(p) {
    return p.split('?')[0].split('/').filter((s) => s.length > 0)
        .map((s) => { try { return decodeURIComponent(s); } catch { return s; } });
}

function matchTemplate(template, segs) {
    const t = splitPath(template);
    if (t.length !== segs.length) {
        return -1;
    }
    let literal = 0;
    for (let i = 0; i < t.length; i++) {
        if (t[i].startsWith('{') && t[i].endsWith('}')) {
            continue;
        }
        if (t[i] !== segs[i]) {
            return -1;
        }
        literal += 1;
    }
    return literal;
}

function findRoute(templates, method, p) {
    const segs = splitPath(p);
    let best = null;
    let bestScore = -1;
    for (const [m, t] of templates) {
        if (m !== method) {
            continue;
        }
        const score = matchTemplate(t, segs);
        if (score > bestScore) {
            best = t;
            bestScore = score;
        }
    }
    return best;
}

// --- Load, patch, compile -----------------------------------------------
const doc = patchDocument(JSON.parse(fs.readFileSync(docPath, 'utf8')));
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
addFormats(ajv);
ajv.addKeyword('components');   // the container of WAHA's schemas
ajv.addSchema({ $id: 'waha', components: doc.components });
const validators = new Map();

function validatorFor(schema) {
    const key = JSON.stringify(schema);
    if (!validators.has(key)) {
        const text = key.replaceAll('"#/components/', '"waha#/components/');
        validators.set(key, ajv.compile(JSON.parse(text)));
    }
    return validators.get(key);
}

function schemaName(schema) {
    if (!schema) {
        return '';
    }
    if (schema.$ref) {
        return schema.$ref;
    }
    if (schema.type === 'array' && schema.items && schema.items.$ref) {
        return schema.items.$ref.split('/').pop() + '[]';
    }
    return '';
}

const wahaRoutes = [];
for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of Object.keys(item)) {
        wahaRoutes.push([m.toUpperCase(), p]);
    }
}

// --- Check the traffic --------------------------------------------------
const failures = [];
const routesChecked = new Map();   // "METHOD template" -> count
const eventsChecked = new Map();   // event -> count
let extensionCount = 0;
let wawpCount = 0;
let syntheticCount = 0;
let otherCount = 0;

function fail(where, rec, msg, errors) {
    const detail = errors ? ajv.errorsText(errors, { separator: '; ' }) : '';
    failures.push(`${where}: ${msg}${detail ? ' -- ' + detail : ''}\n    body: ` +
        String(rec.body ?? '').slice(0, 400));
}

function parseBody(rec) {
    if (rec.body === undefined || rec.body === '') {
        return { empty: true };
    }
    try {
        return { value: JSON.parse(rec.body) };
    } catch {
        return { invalid: true };
    }
}

function checkError(where, rec, body) {
    if (body.empty || body.invalid) {
        fail(where, rec, `error ${rec.status} without a JSON body`);
        return;
    }
    const v = body.value;
    if (rec.status === 422) {
        const ok = validatorFor(WAHA_ERRORS.sessionStatus);
        const okHttp = validatorFor(WAHA_ERRORS.http);
        if (ok(v)) {
            return;
        }
        const errs = ok.errors;
        if (okHttp(v) && v.statusCode === 422) {
            return;
        }
        fail(where, rec, '422 matches neither WAHA 422 shape', errs);
        return;
    }
    const okHttp = validatorFor(WAHA_ERRORS.http);
    if (!okHttp(v)) {
        fail(where, rec, `error ${rec.status} is not WAHA's error body`, okHttp.errors);
    } else if (v.statusCode !== rec.status) {
        fail(where, rec, `statusCode ${v.statusCode} differs from HTTP ${rec.status}`);
    }
}

function checkHttp(file, rec) {
    const method = rec.method.toUpperCase();
    const p = rec.path.split('?')[0];
    if (p.startsWith('/v2/') || p === '/v2') {
        wawpCount += 1;
        return;
    }
    if (!(p.startsWith('/api/') || p === '/ping' || p === '/health')) {
        otherCount += 1;
        return;
    }
    const where = `${file}: ${method} ${rec.path} -> ${rec.status}`;
    if (findRoute(WHARF_EXTENSIONS, method, p) ||
        isQueryExtension(method, p, rec.path.split('?')[1])) {
        extensionCount += 1;
        return;
    }
    const template = findRoute(wahaRoutes, method, p);
    const body = parseBody(rec);
    if (!template) {
        if (rec.status === 404 || rec.status === 405) {
            // an unknown route or method: WAHA answers the same error shape
            checkError(where, rec, body);
            return;
        }
        fail(where, rec, 'a route under /api that is neither in WAHA\'s document ' +
            'nor a listed Wharf extension (add it to waha-openapi.json)');
        return;
    }
    const key = `${method} ${template}`;
    routesChecked.set(key, (routesChecked.get(key) || 0) + 1);
    const op = doc.paths[template][method.toLowerCase()];
    const declared = op.responses[String(rec.status)];
    if (rec.status < 400 || declared) {
        if (!declared) {
            fail(where, rec, `status ${rec.status} not declared (WAHA: ` +
                Object.keys(op.responses).join(', ') + ')');
            return;
        }
        const json = declared.content && declared.content['application/json'];
        if (!json || !String(rec.type || '').startsWith('application/json')) {
            return;   // no schema (or an image): the status is the contract
        }
        if (body.empty || body.invalid) {
            fail(where, rec, 'declared JSON body missing or not JSON');
            return;
        }
        let v = applyResponseExceptions(schemaName(json.schema), body.value);
        if (template === '/api/sessions/{session}/me' && v === null) {
            exceptionUses['getme-null'] += 1;
            return;
        }
        if (method === 'GET' && template === '/api/{session}/groups' && Array.isArray(v)) {
            exceptionUses['groups-array'] += 1;
            return;   // the document has no schema for the items
        }
        const validate = validatorFor(json.schema);
        if (!validate(v)) {
            fail(where, rec, 'body does not match the schema', validate.errors);
        }
        return;
    }
    checkError(where, rec, body);
}

function checkWebhook(file, rec) {
    const body = parseBody(rec);
    if (body.empty || body.invalid) {
        fail(`${file}: webhook`, rec, 'webhook body is not JSON');
        return;
    }
    const env = body.value;
    if (isSynthetic(env)) {
        syntheticCount += 1;
        return;
    }
    const where = `${file}: webhook ${env.event}`;
    const hook = doc.webhooks[env.event];
    if (!hook && EVENTS_NOT_IN_EXTRACT.has(env.event)) {
        extensionCount += 1;
        return;
    }
    if (!hook) {
        fail(where, rec, 'event not in the webhooks of waha-openapi.json (add it)');
        return;
    }
    eventsChecked.set(env.event, (eventsChecked.get(env.event) || 0) + 1);
    const schema = hook.post.requestBody.content['application/json'].schema;
    const validate = validatorFor(schema);
    if (!validate(applyEnvelopeExceptions(env))) {
        fail(where, rec, 'envelope does not match the schema', validate.errors);
    }
}

const files = fs.existsSync(trafficDir)
    ? fs.readdirSync(trafficDir).filter((f) => f.endsWith('.jsonl')).sort() : [];
let exchanges = 0;
for (const f of files) {
    const lines = fs.readFileSync(path.join(trafficDir, f), 'utf8').split('\n');
    for (const line of lines) {
        if (!line.trim()) {
            continue;
        }
        let rec;
        try {
            rec = JSON.parse(line);
        } catch {
            failures.push(`${f}: unreadable traffic line`);
            continue;
        }
        exchanges += 1;
        if (rec.kind === 'http') {
            checkHttp(f, rec);
        } else if (rec.kind === 'webhook') {
            checkWebhook(f, rec);
        }
    }
}

console.log(`patched generator defects (${patched.length}):`);
for (const p of patched) {
    console.log(`  ${p}`);
}
console.log('exceptions WAHA itself makes:');
for (const e of EXCEPTIONS) {
    console.log(`  ${e.id} (used ${exceptionUses[e.id]}x): ${e.reason}`);
}
console.log(`traffic: ${files.length} files, ${exchanges} exchanges ` +
    `(${wawpCount} Wawp /v2, ${extensionCount} Wharf extensions, ` +
    `${syntheticCount} synthetic event-gen events, ${otherCount} other: not WAHA)`);
const notSeen = wahaRoutes.map(([m, t]) => `${m} ${t}`).filter((k) => !routesChecked.has(k));
console.log(`WAHA routes checked: ${routesChecked.size} of ${wahaRoutes.length} in the document`);
for (const [k, n] of [...routesChecked].sort()) {
    console.log(`  ${k} (${n})`);
}
if (notSeen.length) {
    console.log(`WAHA routes in the document no test called: ${notSeen.join(', ')}`);
}
console.log(`WAHA events checked: ${eventsChecked.size} of ${Object.keys(doc.webhooks).length}`);
for (const [k, n] of [...eventsChecked].sort()) {
    console.log(`  ${k} (${n})`);
}
if (exchanges === 0) {
    failures.push(`no traffic recorded in ${trafficDir}: run the integration tests first`);
}
if (failures.length) {
    console.log(`\n${failures.length} mismatches:`);
    for (const f of failures) {
        console.log(`- ${f}`);
    }
    console.log(`\n0 passed, ${failures.length} failed`);
    process.exit(1);
}
console.log(`\n${routesChecked.size + eventsChecked.size} passed, 0 failed`);
