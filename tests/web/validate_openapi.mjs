// validate_openapi.mjs - the gateway's OpenAPI document, checked by machine:
//   node validate_openapi.mjs DOC.json
// 1. It is a valid OpenAPI 3.0 document (@seriousme/openapi-schema-validator,
//    the OpenAPI Initiative's JSON schemas); every $ref resolves.
// 2. Every operation has a success response with a schema and the 4xx error
//    shape (Error or WawpError); every request body has a schema.
// 3. Every example validates against the schema beside it (Ajv), and the
//    main operations have examples.
//
// Copyright (c) 2026 the Wharf authors. Apache-2.0.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

// Packages come from the working directory (the build tree's npm folder).
const require = createRequire(path.join(process.cwd(), 'package.json'));
const { Validator } = await import(pathToFileURL(
    require.resolve('@seriousme/openapi-schema-validator')).href);
const Ajv = require('ajv').default;
const addFormats = require('ajv-formats').default;

const file = process.argv[2];
const doc = JSON.parse(readFileSync(file, 'utf8'));
let failures = 0;
const fail = (what) => { failures += 1; console.log('FAIL ' + what); };

const validator = new Validator();
const res = await validator.validate(structuredClone(doc));
if (!res.valid) {
    fail('not a valid OpenAPI document: ' + JSON.stringify(res.errors, null, 1).slice(0, 4000));
} else {
    console.log(`ok   valid OpenAPI ${validator.version} document`);
    validator.resolveRefs(); // throws on a dangling $ref
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
for (const f of ['byte', 'binary', 'int32', 'int64', 'float', 'double']) {
    if (!ajv.formats[f]) ajv.addFormat(f, true);
}
// OpenAPI 3.0's `nullable` beside no `type` (allOf/$ref) is JSON Schema's
// anyOf [..., null]; Ajv takes `nullable` only beside a type.
const toJsonSchema = (node) => {
    if (Array.isArray(node)) return node.map(toJsonSchema);
    if (!node || typeof node !== 'object') return node;
    const out = {};
    for (const [k, v] of Object.entries(node)) out[k] = toJsonSchema(v);
    if (out.nullable === true && out.type === undefined) {
        delete out.nullable;
        return { anyOf: [out, { type: 'null' }] };
    }
    return out;
};
ajv.addSchema({ components: toJsonSchema(doc.components) }, 'doc');
const check = (schema, value, where) => {
    const v = ajv.compile({ $ref: 'doc' + schema.$ref });
    if (!schema.$ref) return; // inline schemas are not exampled
    if (!v(value)) fail(`${where}: example does not match ${schema.$ref}: ` +
                        ajv.errorsText(v.errors));
};

const METHODS = ['get', 'post', 'put', 'delete', 'patch'];
let ops = 0;
let examples = 0;
const exampled = new Set();
for (const [path, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
        const op = item[m];
        if (!op) continue;
        ops += 1;
        const where = `${m.toUpperCase()} ${path}`;
        const codes = Object.keys(op.responses || {});
        const ok = codes.filter((c) => c.startsWith('2') || c === '101');
        if (ok.length === 0) { fail(`${where}: no success response`); continue; }
        for (const c of ok) {
            const content = op.responses[c].content || {};
            const media = Object.keys(content);
            if (media.length === 0 || !content[media[0]].schema) {
                fail(`${where}: response ${c} has no schema`);
            }
            for (const mt of media) {
                if (content[mt].example !== undefined) {
                    examples += 1;
                    exampled.add(op.operationId);
                    check(content[mt].schema, content[mt].example, `${where} ${c}`);
                }
            }
        }
        const errs = codes.filter((c) => c.startsWith('4'));
        if (errs.length === 0) fail(`${where}: no 4xx response`);
        for (const c of errs) {
            const s = op.responses[c].content?.['application/json']?.schema?.$ref || '';
            if (!/\/(Error|WawpError)$/.test(s)) fail(`${where}: ${c} is not the error shape (${s})`);
        }
        if (op.requestBody) {
            for (const [mt, media] of Object.entries(op.requestBody.content || {})) {
                if (!media.schema) fail(`${where}: request ${mt} has no schema`);
                if (media.example !== undefined) {
                    examples += 1;
                    check(media.schema, media.example, `${where} request`);
                }
            }
        }
    }
}
for (const id of ['sessionsCreate', 'sessionsList', 'sessionsGet', 'sendText',
                  'authQr', 'authRequestCode', 'ping', 'serverVersion']) {
    if (!exampled.has(id)) fail(`operation ${id} has no example`);
}
console.log(`${ops} operations, ${examples} examples checked`);
console.log(`${failures ? 0 : 1} passed, ${failures ? 1 : 0} failed`);
process.exit(failures ? 1 : 0);
