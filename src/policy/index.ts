/** `veritee/policy`: appraisal policy parsing and appraisal. */
export { appraiseCommon, buildResult, MAX_CLOCK_SKEW_MS } from './appraise.js';
export { DEFAULT_POLICY, parsePolicy, parsePolicyText, policyHex, type SectionParser } from './parse.js';
export { type ByteMatch, DEFAULT_PLATFORMS, type Policy } from './types.js';
