// sdk_client.mjs — drives `cscctl mcp` with the official MCP TypeScript SDK
// client (@modelcontextprotocol/sdk, pinned by the test setup) against a real
// cscd. The SDK validates every structuredContent against the tool's
// outputSchema, so each call is also a conformance check. Run by
// test_mcp.py, which sets up the daemon, the user and the directories, and
// passes them in the environment. Prints "ok NAME" / "FAIL NAME" per check
// and "sdk checks: P/T" at the end.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const env = process.env;
const require = createRequire(path.join(env.SDK_DIR, 'package.json'));
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');
const { McpError } = require('@modelcontextprotocol/sdk/types.js');
const z = require('zod');

const UID = Number(env.TEST_UID), GID = Number(env.TEST_GID), WORK = env.WORK_DIR;
let passed = 0, failed = 0;
function check(ok, name, detail) {
  if (ok) { passed++; console.log('ok ' + name); }
  else { failed++; console.log('FAIL ' + name + (detail ? ': ' + detail : '')); }
}
async function step(name, fn) {
  try { await fn(); } catch (e) { failed++; console.log('FAIL ' + name + ': ' + (e && e.stack || e)); }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Host processes whose command line is exactly argv (a sandbox that outlived its call).
function pidsRunning(argv) {
  const want = argv.map((a) => a + '\0').join('');
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return fs.readFileSync(`/proc/${p}/cmdline`, 'latin1') === want; } catch { return false; }
  });
}
async function noneLeft(argv) {
  // Cancelled means: within 30 s (16 ASan sandboxes on a loaded 2-core
  // machine) none is left, and none appears afterwards. A sandbox whose
  // executor was already past setup when the hang-up reached cscd may show
  // the command for a moment before it is killed; one that starts late
  // (a cancelled submit started from the queue) runs for 33 s. So: a full
  // second with none, reached within the bound.
  let quiet = 0;
  for (let i = 0; i < 300 && quiet < 10; i++) {
    quiet = pidsRunning(argv).length ? 0 : quiet + 1;
    await sleep(100);
  }
  return quiet >= 10;
}
const asUser = ['--reuid', String(UID), '--regid', String(GID), '--clear-groups'];
const serverEnv = { PATH: '/usr/bin:/bin', HOME: WORK, USER: env.TEST_USER, XDG_STATE_HOME: path.join(WORK, 'state') };

const transport = new StdioClientTransport({
  command: 'setpriv', args: [...asUser, env.CSCCTL, '--socket', env.SOCK, 'mcp'],
  env: serverEnv, cwd: '/', stderr: 'pipe',
});
let serverStderr = '';
transport.stderr.on('data', (b) => { serverStderr += b.toString(); });
const client = new Client({ name: 'csc-sdk-test', version: '1.0.0' });
const call = (name, args, opts) => client.callTool({ name, arguments: args }, undefined, opts);
const text = (res) => res.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');

await step('initialize', async () => {
  await client.connect(transport);
  check(client.getServerVersion().name === 'cscd', 'initialize: serverInfo names cscd');
  const caps = client.getServerCapabilities();
  check(caps.tools && !caps.logging, 'initialize: tools advertised, logging not', JSON.stringify(caps));
});

await step('tools/list', async () => {
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name).sort();
  check(JSON.stringify(names) === JSON.stringify(['csc_cancel', 'csc_check', 'csc_policy', 'csc_poll', 'csc_run', 'csc_start']),
    'tools/list: the six tools', names.join(','));
  const by = Object.fromEntries(tools.map((t) => [t.name, t]));
  check(by.csc_policy.annotations.readOnlyHint === true && by.csc_check.annotations.readOnlyHint === true &&
        by.csc_run.annotations.readOnlyHint === false, 'tools/list: readOnlyHint on csc_policy and csc_check only');
  check(tools.every((t) => t.outputSchema && t.outputSchema.type === 'object'), 'tools/list: every tool has an outputSchema');
});

await step('csc_policy', async () => {
  const r = await call('csc_policy', {});
  const p = r.structuredContent;
  check(!r.isError && p.status === 'success' && p.allow_commands.includes('echo') && p.user.uid === UID &&
        p.max_timeout_sec === 120 && Array.isArray(p.deny_argv_prefixes) && p.approval_required_effect_types.includes('transform_local'),
        'csc_policy: the live policy as this user sees it', JSON.stringify(p));
  const bad = await call('csc_policy', { x: 1 });
  check(bad.isError && bad.structuredContent.reason.startsWith('x:'), 'csc_policy: an argument is refused by name');
});

await step('csc_check', async () => {
  const ok = await call('csc_check', { argv: ['echo', 'hi'], intent: 'check echo' });
  check(!ok.isError && ok.structuredContent.decision === 'allow' && ok.structuredContent.contract.actor.agent_id === 'csc-sdk-test' &&
        ok.structuredContent.contract.actor.delegation_scope === 'mcp' && ok.structuredContent.contract.actor.initiating_user === env.TEST_USER,
        'csc_check: allow, actor filled from clientInfo and the user', JSON.stringify(ok.structuredContent.contract?.actor));
  const no = await call('csc_check', { argv: ['rm', '-rf', WORK], intent: 'remove' });
  check(no.structuredContent.decision === 'deny' && no.structuredContent.reason_codes[0] === 'COMMAND_NOT_ALLOWED',
        'csc_check: deny with its reason code');
  const bad = await call('csc_check', { argv: 'echo', intent: 'x' });
  check(bad.isError && /^argv: must be an array/.test(bad.structuredContent.reason), 'csc_check: a bad argument is a tool error naming it',
        bad.structuredContent.reason);
  const badcwd = await call('csc_check', { argv: ['echo'], intent: 'x', cwd: 'relative' });
  check(badcwd.isError && /^cwd: /.test(badcwd.structuredContent.reason), 'csc_check: contract errors name the argument',
        badcwd.structuredContent.reason);
});

await step('argument errors name the argument', async () => {
  const cases = [
    [{ pipeline: [['seq', '3'], 'wc'], intent: 'x' }, /^pipeline\[1\]: must be an array/],
    [{ pipeline: [['seq', '3'], []], intent: 'x' }, /^pipeline\[1\]: must not be empty/],
    [{ argv: ['echo'], intent: 'x', env: { A: 1 } }, /^env\.A: must be a string/],
    [{ argv: ['echo'] }, /^intent: required/],
    [{ argv: ['echo'], pipeline: [['a'], ['b']], intent: 'x' }, /^pipeline: give argv or pipeline/],
    [{ argv: ['echo'], intent: 'x', timeout_sec: 0 }, /^timeout_sec: /],
    [{ argv: ['echo'], intent: 'x', network: 'some' }, /^network: /],
    [{ argv: ['echo'], intent: 'x', read_paths: ['rel'] }, /^read_paths\[0\]: /],
    [{ argv: ['echo'], intent: 'x', effect: 'teleport' }, /^effect: /],
    [{ contract: { commands: [] }, intent: 'x' }, /^intent: cannot be combined with contract/],
    [{ contract: { commands: [] } }, /^contract: missing required key "intent"/],
    [{ contract: { intent: 'x', justification: 'x', risk_class: 'low', approval_mode: 'policy_only', commands: [{}] } },
     /^contract\.commands\[0\]/],
    [{ argv: ['echo'], intent: 'x', approvals: ['/nonexistent/a.json'] }, /^approvals\[0\]: cannot read/],
  ];
  for (const [args, re] of cases) {
    const r = await call('csc_run', args);
    check(r.isError && r.structuredContent.status === 'error' && re.test(r.structuredContent.reason),
          'bad argument: ' + re.source, r.structuredContent.reason);
  }
});

await step('csc_run pipeline', async () => {
  const r = await call('csc_run', { pipeline: [['seq', '1', '5'], ['wc', '-l']], intent: 'count' });
  check(r.structuredContent.status === 'success' && r.structuredContent.stdout.trim() === '5', 'pipeline: runs',
        JSON.stringify(r.structuredContent).slice(0, 300));
  const f = await call('csc_run', { argv: ['sh', '-c', 'printf "\\377\\376 bad utf8\\n"; exit 3'], intent: 'bad bytes' });
  check(f.structuredContent.status === 'failed' && f.structuredContent.exit_code === 3 &&
        f.structuredContent.stdout === '\ufffd\ufffd bad utf8\n' && f.structuredContent.stdout_bytes === 12,
        'failed run: exit code, and invalid UTF-8 replaced (byte count kept)', JSON.stringify(f.structuredContent.stdout));
});

await step('csc_run', async () => {
  const r = await call('csc_run', { argv: ['id', '-u'], intent: 'who am I' });
  const s = r.structuredContent;
  check(!r.isError && s.status === 'success' && s.exit_code === 0 && s.stdout.trim() === String(UID),
        'csc_run: runs as the real non-root user', JSON.stringify(s).slice(0, 400));
  check(s.receipt && s.receipt.signature && s.receipt.status === 'success' && s.execution_id === s.receipt.execution_id &&
        s.contract_sha256 === s.receipt.contract_sha256, 'csc_run: the signed receipt is in the result');
  const rf = path.join(WORK, 'receipt.json');
  fs.writeFileSync(rf, JSON.stringify(s.receipt));
  const v = execFileSync(env.CSCCTL, ['verify-receipt', rf, '--public-key', env.PUBKEY]).toString();
  check(v.startsWith('VALID'), 'csc_run: the receipt verifies', v);
  check(text(r).includes('status: success') && text(r).includes(String(UID)), 'csc_run: the text block has status and output');
});

await step('csc_run progress', async () => {
  const seen = [];
  const r = await call('csc_run', { argv: ['sh', '-c', 'for i in 1 2 3 4 5 6; do echo line $i; sleep 0.25; done'], intent: 'progress' },
    { onprogress: (p) => seen.push(p) });
  check(r.structuredContent.status === 'success' && r.structuredContent.stdout.includes('line 6'), 'progress: the run succeeded');
  check(seen.length >= 2, 'progress: notifications arrived while it ran', String(seen.length));
  check(seen.every((p, i) => i === 0 || p.progress > seen[i - 1].progress), 'progress: progress always grows', JSON.stringify(seen));
  check(seen.some((p) => /line \d/.test(p.message || '')), 'progress: message carries the latest output line');
});

await step('progress rate limit', async () => {
  const seen = [];
  const t0 = Date.now();
  const r = await call('csc_run', { argv: ['sh', '-c', 'i=0; while [ $i -lt 400 ]; do echo tick $i; i=$((i+1)); sleep 0.004; done'],
    intent: 'chatty' }, { onprogress: (p) => seen.push(p) });
  const secs = (Date.now() - t0) / 1000;
  check(r.structuredContent.status === 'success' && seen.length >= 3 && seen.length <= Math.ceil(secs * 10) + 2,
        'progress: at most 10 notifications a second', `${seen.length} in ${secs}s`);
  check(seen.every((p, i) => i === 0 || p.progress > seen[i - 1].progress), 'progress: still always grows');
});

await step('concurrent runs', async () => {
  const rs = await Promise.all([1, 2, 3].map((i) => call('csc_run', { argv: ['sh', '-c', `sleep 0.5; echo run ${i}`], intent: 'parallel' })));
  check(rs.every((r, i) => r.structuredContent.status === 'success' && r.structuredContent.stdout === `run ${i + 1}\n`),
        'concurrent csc_run calls each get their own result', JSON.stringify(rs.map((r) => r.structuredContent.stdout)));
});

await step('running limit', async () => {
  const argv = ['sleep', '33.125'];
  const handles = [];
  for (let i = 0; i < 16; i++) {
    const st = await call('csc_start', { argv, intent: 'fill the slots' });
    if (st.structuredContent.status === 'running') handles.push(st.structuredContent.handle);
  }
  check(handles.length === 16, 'limit: 16 runs at once are accepted', String(handles.length));
  const more = await call('csc_start', { argv, intent: 'one too many' });
  check(more.isError && /too many running executions/.test(more.structuredContent.reason), 'limit: the 17th is refused',
        more.structuredContent.reason);
  const run = await call('csc_run', { argv: ['true'], intent: 'also too many' });
  check(run.isError && run.structuredContent.status === 'error', 'limit: csc_run counts too');
  for (const h of handles) await call('csc_cancel', { handle: h });
  check(await noneLeft(argv), 'limit: all cancelled, no sandbox left');
  const after = await call('csc_run', { argv: ['true'], intent: 'room again' });
  check(after.structuredContent.status === 'success', 'limit: runs again once there is room');
  check(pidsRunning(argv).length === 0, 'limit: no cancelled run started later');
});

await step('csc_run output cap', async () => {
  const r = await call('csc_run', { argv: ['seq', '1', '40000'], intent: 'much output' });
  const s = r.structuredContent;
  check(s.stdout_bytes === 228894 && /\[… \d+ bytes omitted …\]/.test(s.stdout) && s.stdout.startsWith('1\n2\n') &&
        s.stdout.endsWith('39999\n40000\n') && Buffer.byteLength(s.stdout) < 33 * 1024,
        'output: over 32 KiB keeps head and tail with a marker, and the full count', String(s.stdout_bytes));
  check(s.stdout_sha256 === s.receipt.stdout_hash.replace(/^sha256:/, ''), 'output: the digest is the receipt\'s',
        s.stdout_sha256 + ' ' + s.receipt.stdout_hash);
});

await step('csc_run denied', async () => {
  const r = await call('csc_run', { argv: ['rm', '-rf', WORK], intent: 'remove it all' });
  const s = r.structuredContent;
  check(r.isError && s.status === 'blocked' && s.decision === 'deny' && s.reason_codes[0] === 'COMMAND_NOT_ALLOWED' &&
        s.receipt.status === 'blocked' && s.exit_code === null, 'denied: blocked with a signed receipt', JSON.stringify(s).slice(0, 300));
  check(fs.existsSync(WORK), 'denied: nothing ran');
});

await step('needs_approval round trip', async () => {
  const target = path.join(WORK, 'approved.txt');
  const args = { argv: ['touch', target], write_paths: [WORK], effect: 'transform_local', intent: 'create a file' };
  const r = await call('csc_run', args);
  const s = r.structuredContent;
  check(r.isError && s.status === 'needs_approval' && s.decision === 'needs_approval' && /transform_local/.test(s.reason),
        'approval: needs_approval, and the reason names the effect type', s.reason);
  check(fs.existsSync(s.pending_path) && s.pending_path.startsWith(path.join(WORK, 'state', 'csc', 'pending')) &&
        s.pending_path.endsWith(s.contract_sha256 + '.json'), 'approval: the exact contract saved under XDG_STATE_HOME', s.pending_path);
  check(s.approve_command.startsWith(`cscctl approve '${s.pending_path}'`) && text(r).includes(s.approve_command),
        'approval: the result gives the cscctl approve command', s.approve_command);
  check(!fs.existsSync(target), 'approval: nothing ran before approval');
  execFileSync('setpriv', [...asUser, env.CSCCTL, 'approve', s.pending_path, '--approver', 'test-human', '--out', s.approval_file]);
  const again = await call('csc_run', { ...args, approvals: [s.approval_file] });
  check(!again.isError && again.structuredContent.status === 'success' && fs.existsSync(target) &&
        again.structuredContent.contract_sha256 === s.contract_sha256,
        'approval: the same call plus approvals runs the approved contract', JSON.stringify(again.structuredContent).slice(0, 300));
  const replay = await call('csc_run', { ...args, approvals: [s.approval_file] });
  check(replay.structuredContent.status !== 'success', 'approval: a single-execution approval does not run twice');
  // An agent that writes its own contract (no contract_id: the server fills one in each time).
  const target2 = path.join(WORK, 'approved-2.txt');
  const contract = { intent: 'own contract', justification: 'test', risk_class: 'low', approval_mode: 'policy_only',
    commands: [{ id: 'mk', exec: { argv: ['touch', target2] }, cwd: '/', read_paths: [], write_paths: [WORK], network: 'deny',
                 env_allow: [], secret_refs: [], timeout_sec: 30, proposed_effect_type: 'transform_local' }] };
  const own = await call('csc_run', { contract });
  check(own.structuredContent.status === 'needs_approval' && fs.existsSync(own.structuredContent.pending_path),
        'approval (contract): needs_approval and saved', JSON.stringify(own.structuredContent).slice(0, 300));
  execFileSync('setpriv', [...asUser, env.CSCCTL, 'approve', own.structuredContent.pending_path, '--approver', 'test-human',
    '--out', own.structuredContent.approval_file]);
  const ownAgain = await call('csc_run', { contract, approvals: [own.structuredContent.approval_file] });
  check(ownAgain.structuredContent.status === 'success' && fs.existsSync(target2),
        'approval (contract): the same contract plus approvals runs', JSON.stringify(ownAgain.structuredContent).slice(0, 300));
});

await step('cancellation', async () => {
  const argv = ['sleep', '37.25'];
  const ac = new AbortController();
  const p = call('csc_run', { argv, intent: 'long sleep' }, { signal: ac.signal });
  for (let i = 0; i < 100 && pidsRunning(argv).length === 0; i++) await sleep(50);
  check(pidsRunning(argv).length === 1, 'cancel: the command was running');
  ac.abort('test cancels');
  let rejected = false;
  try { await p; } catch { rejected = true; }
  check(rejected, 'cancel: the call ended on the client side');
  check(await noneLeft(argv), 'cancel: no sandbox process left');
  await client.ping();
  check(true, 'cancel: the server still answers');
});

await step('csc_start / csc_poll / csc_cancel', async () => {
  const st = await call('csc_start', { argv: ['sh', '-c', 'echo first; sleep 1; echo second >&2; echo third'], intent: 'long job' });
  const h = st.structuredContent.handle;
  check(!st.isError && st.structuredContent.status === 'running' && /^run-\d+$/.test(h), 'start: a handle at once', h);
  let out = '', err = '', so = 0, se = 0, last;
  for (let i = 0; i < 40; i++) {
    const r = await call('csc_poll', { handle: h, stdout_offset: so, stderr_offset: se, wait_ms: 2000 });
    last = r.structuredContent;
    out += last.stdout; err += last.stderr; so = last.stdout_offset; se = last.stderr_offset;
    if (last.done) break;
  }
  check(last.done && last.status === 'success' && last.result.status === 'success' && out === 'first\nthird\n' && err === 'second\n',
        'poll: output by offsets, then the full result', JSON.stringify({ out, err, status: last.status }));
  const argv = ['sleep', '38.5'];
  const st2 = await call('csc_start', { argv, intent: 'to cancel' });
  for (let i = 0; i < 100 && pidsRunning(argv).length === 0; i++) await sleep(50);
  const c = await call('csc_cancel', { handle: st2.structuredContent.handle });
  check(c.structuredContent.status === 'cancelled', 'cancel tool: cancelled');
  check(await noneLeft(argv), 'cancel tool: no sandbox process left');
  const after = await call('csc_poll', { handle: st2.structuredContent.handle });
  check(after.structuredContent.done && after.structuredContent.status === 'error' && /cancelled/.test(after.structuredContent.reason),
        'cancel tool: poll shows it ended, cancelled');
  const unknown = await call('csc_poll', { handle: 'run-9999' });
  check(unknown.isError && /^handle: unknown/.test(unknown.structuredContent.reason), 'poll: an unknown handle is a tool error');
});

await step('protocol errors', async () => {
  try { await call('no_such_tool', {}); check(false, 'unknown tool: -32602'); }
  catch (e) { check(e instanceof McpError && e.code === -32602, 'unknown tool: -32602', String(e)); }
  try { await client.request({ method: 'server/discover', params: {} }, z.object({}).passthrough()); check(false, 'server/discover: -32601'); }
  catch (e) { check(e instanceof McpError && e.code === -32601, 'server/discover: -32601 at once', String(e)); }
});

await client.close();
await sleep(300);
check(!/Sanitizer/.test(serverStderr), 'the server had no sanitizer report', serverStderr.slice(-2000));
console.log(`sdk checks: ${passed}/${passed + failed}`);
process.exit(failed ? 1 : 0);
