/**
 * The attestation explorer: verification runs in the browser with the library (noble + WebCrypto
 * backend), or, when asked, through the service's POST /v1/verify. Everything shown comes from the
 * AttestationResult; nothing is trusted from the page's own state.
 */
import sampleEvidence from '../examples/nitro/marlin-aws-2024-12-13.cose';
import { decodeEvidenceInput, fromBase64, toBase64, toBase64Url, utf8Encode } from '../src/bytes.js';
import { VeriteeError } from '../src/errors.js';
import type { Policy } from '../src/policy/types.js';
import type { AttestationResult } from '../src/result.js';
import { loadPolicy, verify } from '../src/verify.js';

const SAMPLE_AT = '2024-12-13T07:37:58.960Z';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const evidenceBox = $<HTMLTextAreaElement>('evidence');
const atBox = $<HTMLInputElement>('at');
const policyBox = $<HTMLTextAreaElement>('policy');
const collateralBox = $<HTMLTextAreaElement>('collateral');
const policyError = $<HTMLParagraphElement>('policy-error');
const output = $<HTMLElement>('output');
const useService = $<HTMLInputElement>('use-service');
const permalink = $<HTMLAnchorElement>('permalink');

/** Raw bytes from a dropped or chosen file, kept apart from the textarea (which holds text). */
let droppedBytes: Uint8Array | undefined;
/** A binary (DER) collateral file, e.g. an AMD VCEK. */
let collateralBytes: Uint8Array | undefined;

/**
 * Collateral from the page, in the form `verify` and the service both take: Intel collateral as its JSON
 * object, AMD endorsements as `{vcek}` (PEM text, which may carry the chain, or DER bytes as PEM).
 */
function currentCollateral(): unknown {
  if (collateralBytes !== undefined) return { vcek: derToPem(collateralBytes) };
  const text = collateralBox.value.trim();
  if (text === '') return undefined;
  if (text.startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch {
      throw new Error('The collateral is not valid JSON.');
    }
  }
  if (text.includes('-----BEGIN')) return { vcek: text };
  throw new Error('Collateral must be Intel collateral JSON or a PEM certificate (AMD VCEK/VLEK).');
}

function derToPem(der: Uint8Array): string {
  const body = toBase64(der).replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function parseAt(text: string): Date | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const date = /^\d+(\.\d+)?$/.test(trimmed) ? new Date(Number(trimmed) * 1000) : new Date(trimmed);
  if (Number.isNaN(date.getTime()))
    throw new Error('The verification time must be RFC 3339 (2024-12-13T07:37:58Z) or Unix seconds.');
  return date;
}

function currentPolicy(): { policy: Policy | undefined; json: unknown } {
  policyError.textContent = '';
  const text = policyBox.value.trim();
  if (text === '') return { policy: undefined, json: undefined };
  try {
    const json = JSON.parse(text);
    return { policy: loadPolicy(json), json };
  } catch (error) {
    policyError.textContent = error instanceof Error ? error.message : String(error);
    throw error;
  }
}

function evidenceBytes(): Uint8Array {
  if (droppedBytes !== undefined) return droppedBytes;
  return decodeEvidenceInput(utf8Encode(evidenceBox.value));
}

async function verifyWithService(
  evidence: Uint8Array,
  at: Date | undefined,
  policyJson: unknown,
  collateral: unknown,
): Promise<AttestationResult> {
  const response = await fetch('/v1/verify', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      evidence: toBase64(evidence),
      at: at?.toISOString(),
      policy: policyJson,
      collateral,
    }),
  });
  const body = (await response.json()) as {
    result?: AttestationResult;
    error?: { code: string; message: string };
  };
  if (body.result !== undefined) return body.result;
  throw new Error(`${body.error?.code ?? response.status}: ${body.error?.message ?? 'service error'}`);
}

function copyButton(value: string): HTMLButtonElement {
  const button = el('button', { type: 'button', class: 'copy', title: 'copy' }, 'copy');
  button.addEventListener('click', () => {
    void navigator.clipboard?.writeText(value).then(() => {
      button.textContent = 'copied';
      setTimeout(() => {
        button.textContent = 'copy';
      }, 1200);
    });
  });
  return button;
}

const PLATFORM_NAMES: Record<string, string> = {
  nitro: 'AWS Nitro Enclave',
  sgx: 'Intel SGX enclave',
  tdx: 'Intel TDX trust domain',
  'sev-snp': 'AMD SEV-SNP guest',
  sim: 'Simulator (not real hardware)',
  unknown: 'Unrecognised evidence',
};

function verdictCard(result: AttestationResult): HTMLElement {
  const reasons = [
    ...result.errors.map((e) => el('li', { class: 'fail' }, `✗ ${e.code}: ${e.message}`)),
    ...result.warnings.map((w) => el('li', {}, `⚠ ${w.code}: ${w.message}`)),
  ];
  const card = el(
    'section',
    { class: 'card', id: 'verdict-card' },
    el(
      'div',
      { class: 'verdict' },
      el('span', { class: `badge ${result.verdict}`, id: 'verdict' }, result.verdict),
      el('span', { class: 'platform', id: 'platform' }, PLATFORM_NAMES[result.platform] ?? result.platform),
    ),
  );
  if (result.platform === 'sim')
    card.append(el('p', { class: 'sim' }, 'SIMULATOR evidence: this proves nothing about real hardware.'));
  const facts = el('dl', { class: 'kv' });
  const add = (label: string, value: string) => facts.append(el('dt', {}, label), el('dd', {}, value));
  add('verified', result.verified ? 'yes — signatures and chain are good at the verification time' : 'no');
  add('checked at', result.verifiedAt);
  if (result.validUntil) add('valid until', result.validUntil);
  add('debug', result.debug ? 'YES — the host can read this enclave’s memory' : 'no');
  if (typeof result.claims.moduleId === 'string') add('module', result.claims.moduleId);
  if (typeof result.claims.timestamp === 'string') add('produced at', result.claims.timestamp);
  if (result.tcb) {
    add('TCB status', result.tcb.status);
    if (result.tcb.advisoryIds.length > 0) add('advisories', result.tcb.advisoryIds.join(', '));
    if (result.tcb.tcbDate) add('TCB date', result.tcb.tcbDate);
  }
  card.append(facts);
  if (reasons.length > 0)
    card.append(el('h2', {}, 'Reasons'), el('ul', { class: 'checks', id: 'reasons' }, ...reasons));
  return card;
}

function measurementsCard(result: AttestationResult): HTMLElement | undefined {
  const entries = Object.entries(result.measurements);
  if (entries.length === 0) return undefined;
  const zero = entries.filter(([, value]) => /^0+$/.test(value)).map(([name]) => name);
  const table = el('table', { id: 'measurements' });
  for (const [name, value] of entries) {
    if (zero.includes(name)) continue;
    table.append(
      el(
        'tr',
        {},
        el('td', { class: 'name' }, name),
        el('td', { class: 'mono' }, value),
        el('td', {}, copyButton(value)),
      ),
    );
  }
  const card = el('section', { class: 'card' }, el('h2', {}, 'Measurements'), table);
  if (zero.length > 0) card.append(el('p', { class: 'zeros' }, `All zero: ${zero.join(', ')}`));
  return card;
}

/** Explains bound data: 64-byte report data as two halves, DER public keys by type, text when printable. */
function describeBytes(name: string, hex: string): string {
  const bytes = hex.length / 2;
  if (bytes === 64 && name === 'report data')
    return `64 bytes: first half ${hex.slice(0, 64)} · second half ${hex.slice(64)}${/^0+$/.test(hex.slice(64)) ? ' (zero: a 32-byte hash such as SHA-256 of a key or nonce)' : ''}`;
  if (hex.startsWith('3059301306072a8648ce3d0201')) return `DER public key: EC P-256 (${bytes} bytes)`;
  if (hex.startsWith('3076301006072a8648ce3d0201')) return `DER public key: EC P-384 (${bytes} bytes)`;
  if (hex.startsWith('302a300506032b6570')) return `DER public key: Ed25519 (${bytes} bytes)`;
  if (bytes === 32) return '32 bytes (the size of a SHA-256 hash or an X25519/Ed25519 key)';
  if (bytes === 64) return '64 bytes (the size of a raw P-256 point x‖y or a SHA-512 hash)';
  const text = hex.match(/../g)?.map((pair) => Number.parseInt(pair, 16)) ?? [];
  if (text.length > 0 && text.every((c) => c >= 0x20 && c < 0x7f))
    return `text: “${String.fromCharCode(...text)}”`;
  return `${bytes} bytes`;
}

function boundDataCard(result: AttestationResult): HTMLElement | undefined {
  const candidates: [string, string | undefined][] = [
    ['report data', result.reportData],
    ['user data', result.userData],
    ['public key', result.publicKey],
    ['nonce', result.nonce],
  ];
  const rows = candidates.filter((row): row is [string, string] => row[1] !== undefined);
  if (rows.length === 0) return undefined;
  const table = el('table', { id: 'bound-data' });
  for (const [name, value] of rows) {
    table.append(
      el(
        'tr',
        {},
        el('td', { class: 'name' }, name),
        el(
          'td',
          {},
          el('div', { class: 'mono' }, value || '(empty)'),
          el('div', { class: 'zeros' }, describeBytes(name, value)),
        ),
        el('td', {}, copyButton(value)),
      ),
    );
  }
  return el('section', { class: 'card' }, el('h2', {}, 'Bound data'), table);
}

interface Window_ {
  readonly label: string;
  readonly from: number;
  readonly to: number;
}

function timelineWindows(result: AttestationResult): Window_[] {
  const out: Window_[] = [];
  const claims = result.claims as Record<string, unknown>;
  const add = (label: string, from: string | undefined, to: string | undefined) => {
    if (from !== undefined && to !== undefined)
      out.push({ label, from: Date.parse(from), to: Date.parse(to) });
  };
  // Nitro: the whole chain, leaf first.
  if (Array.isArray(claims.certificates)) {
    for (const cert of claims.certificates as { subject: string; notBefore: string; notAfter: string }[]) {
      add(/CN=([^,]+)/.exec(cert.subject)?.[1] ?? cert.subject, cert.notBefore, cert.notAfter);
    }
  }
  // Intel: the PCK certificate and each piece of collateral.
  const pck = claims.pckCertificate as { notBefore?: string; notAfter?: string } | undefined;
  if (pck) add('PCK certificate', pck.notBefore, pck.notAfter);
  const collateral = claims.collateral as
    | Record<string, { issueDate?: string; thisUpdate?: string; nextUpdate?: string }>
    | undefined;
  if (collateral && !Array.isArray(collateral)) {
    const names: Record<string, string> = {
      tcbInfo: 'TCB Info',
      qeIdentity: 'QE Identity',
      pckCrl: 'PCK CRL',
      rootCaCrl: 'Root CA CRL',
    };
    for (const [key, item] of Object.entries(collateral))
      add(names[key] ?? key, item.issueDate ?? item.thisUpdate, item.nextUpdate);
  }
  // AMD: the VCEK or VLEK.
  const vek = claims.endorsementKey as { kind?: string; notBefore?: string; notAfter?: string } | undefined;
  if (vek) add(String(vek.kind ?? 'endorsement key').toUpperCase(), vek.notBefore, vek.notAfter);
  return out;
}

function timelineCard(result: AttestationResult): HTMLElement | undefined {
  const windows = timelineWindows(result);
  if (windows.length === 0) return undefined;
  const at = Date.parse(result.verifiedAt);
  const now = Date.now();
  // The axis spans the shortest windows around the verification time, so short-lived leaves stay visible.
  const shortest = windows.reduce((a, b) => (b.to - b.from < a.to - a.from ? b : a));
  const span = Math.max(shortest.to - shortest.from, 3_600_000);
  const start = Math.min(shortest.from, at) - span * 0.5;
  const end = Math.max(shortest.to, at) + span * 0.5;
  const position = (t: number) =>
    `${Math.min(100, Math.max(0, ((t - start) / (end - start)) * 100)).toFixed(2)}%`;
  const box = el('div', { class: 'timeline', id: 'timeline' });
  for (const window of windows) {
    const left = position(window.from);
    const right = position(window.to);
    const bar = el('div', {
      class: `tl-bar${window.to < at ? ' expired' : ''}`,
      title: `${new Date(window.from).toISOString()} → ${new Date(window.to).toISOString()}`,
    });
    bar.style.left = left;
    bar.style.width = `calc(${right} - ${left})`;
    const track = el('div', { class: 'tl-track' }, bar);
    const atMark = el('div', { class: 'tl-mark at' });
    atMark.style.left = position(at);
    track.append(atMark);
    if (now >= start && now <= end) {
      const nowMark = el('div', { class: 'tl-mark now' });
      nowMark.style.left = position(now);
      track.append(nowMark);
    }
    box.append(
      el(
        'div',
        { class: 'tl-row' },
        el('span', { class: 'tl-label', title: window.label }, window.label),
        track,
      ),
    );
  }
  box.append(
    el(
      'p',
      { class: 'tl-legend' },
      `Blue line: verification time ${result.verifiedAt}. Black line: now (when in range). Axis ${new Date(start).toISOString()} → ${new Date(end).toISOString()}; long-lived roots run off both ends.`,
    ),
  );
  return el('section', { class: 'card' }, el('h2', {}, 'Certificates and collateral'), box);
}

function checksCard(result: AttestationResult): HTMLElement {
  const list = el('ul', { class: 'checks', id: 'checks' });
  for (const check of result.checks)
    list.append(
      el('li', { class: check.ok ? '' : 'fail' }, `${check.ok ? '✓' : '✗'} ${check.id}: ${check.detail}`),
    );
  return el('section', { class: 'card' }, el('h2', {}, 'Checks'), list);
}

function render(result: AttestationResult): void {
  output.replaceChildren(
    ...[
      verdictCard(result),
      measurementsCard(result),
      boundDataCard(result),
      timelineCard(result),
      checksCard(result),
    ].filter((node): node is HTMLElement => node !== undefined),
  );
}

function renderError(message: string): void {
  output.replaceChildren(
    el('section', { class: 'card' }, el('p', { class: 'error', id: 'input-error', role: 'alert' }, message)),
  );
}

function updatePermalink(evidence: Uint8Array | undefined): void {
  const params = new URLSearchParams();
  if (evidence !== undefined && evidence.length < 64 * 1024) params.set('e', toBase64Url(evidence));
  if (atBox.value.trim() !== '') params.set('at', atBox.value.trim());
  if (policyBox.value.trim() !== '') params.set('p', toBase64Url(utf8Encode(policyBox.value.trim())));
  permalink.href = `#${params.toString()}`;
}

let running = 0;
async function run(): Promise<void> {
  const ticket = ++running;
  let evidence: Uint8Array | undefined;
  try {
    if (droppedBytes === undefined && evidenceBox.value.trim() === '') {
      output.replaceChildren();
      return;
    }
    evidence = evidenceBytes();
    const at = parseAt(atBox.value);
    const { policy, json } = currentPolicy();
    const collateral = currentCollateral();
    const result = useService.checked
      ? await verifyWithService(evidence, at, json, collateral)
      : await verify(evidence, { at, policy, collateral });
    if (ticket === running) render(result);
  } catch (error) {
    if (ticket !== running) return;
    const message =
      error instanceof VeriteeError
        ? `${error.code}: ${error.message}`
        : error instanceof Error
          ? error.message
          : String(error);
    renderError(`This input cannot be verified. ${message}`);
  } finally {
    updatePermalink(evidence);
  }
}

let debounce: ReturnType<typeof setTimeout> | undefined;
function runSoon(): void {
  clearTimeout(debounce);
  debounce = setTimeout(() => void run(), 250);
}

async function loadFile(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  droppedBytes = bytes;
  evidenceBox.value = `(${file.name}: ${bytes.length} bytes)`;
  await run();
}

function restoreFromFragment(): void {
  const params = new URLSearchParams(location.hash.slice(1));
  const evidence = params.get('e');
  try {
    if (evidence) evidenceBox.value = toBase64(fromBase64(evidence));
    const at = params.get('at');
    if (at) atBox.value = at;
    const policy = params.get('p');
    if (policy) policyBox.value = new TextDecoder().decode(fromBase64(policy));
  } catch {
    renderError('The permalink is damaged: its evidence or policy is not valid base64url.');
  }
}

evidenceBox.addEventListener('input', () => {
  droppedBytes = undefined;
  runSoon();
});
atBox.addEventListener('input', runSoon);
collateralBox.addEventListener('input', () => {
  collateralBytes = undefined;
  runSoon();
});
$<HTMLInputElement>('collateral-file').addEventListener('change', async (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (file === undefined) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  const isText = text.trimStart().startsWith('{') || text.includes('-----BEGIN');
  collateralBytes = isText ? undefined : bytes;
  collateralBox.value = isText ? text : `(${file.name}: ${bytes.length} bytes, DER)`;
  void run();
});
policyBox.addEventListener('input', runSoon);
useService.addEventListener('change', () => void run());
$('verify').addEventListener('click', () => void run());
$('sample').addEventListener('click', () => {
  droppedBytes = undefined;
  evidenceBox.value = toBase64(sampleEvidence);
  atBox.value = SAMPLE_AT;
  void run();
});
$<HTMLInputElement>('file').addEventListener('change', (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (file) void loadFile(file);
});
const drop = $('drop');
drop.addEventListener('dragover', (event) => {
  event.preventDefault();
  drop.classList.add('dragging');
});
drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  drop.classList.remove('dragging');
  const file = event.dataTransfer?.files[0];
  if (file) void loadFile(file);
});
window.addEventListener('hashchange', () => {
  restoreFromFragment();
  void run();
});
restoreFromFragment();
void run();
