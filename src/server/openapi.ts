/** The OpenAPI 3.1 description of the verifier service, served at /openapi.json. */
import { VERSION } from '../version.js';

const errorBody = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'stable veritee error code' },
        message: { type: 'string' },
      },
    },
    result: { $ref: '#/components/schemas/AttestationResult' },
  },
};

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'veritee verifier',
    version: VERSION,
    description:
      'Verifies TEE attestation evidence (AWS Nitro, Intel SGX/TDX, AMD SEV-SNP) against pinned vendor roots at a time, appraises it against a policy, and returns the result with a signed EAR.',
  },
  paths: {
    '/v1/verify': {
      post: {
        summary: 'Verify and appraise evidence',
        parameters: [
          {
            name: 'at',
            in: 'query',
            required: false,
            description: 'verification time for raw bodies: RFC 3339 or Unix seconds (default now)',
            schema: { type: 'string' },
          },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['evidence'],
                additionalProperties: false,
                properties: {
                  evidence: { type: 'string', description: 'the evidence, base64 or hex' },
                  collateral: { description: 'platform endorsements (e.g. Intel collateral JSON)' },
                  policy: {
                    type: 'object',
                    description: 'appraisal policy (the same JSON as veritee verify --policy)',
                  },
                  at: {
                    oneOf: [{ type: 'string' }, { type: 'number' }],
                    description: 'RFC 3339 or Unix seconds',
                  },
                },
              },
            },
            'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
          },
        },
        responses: {
          '200': {
            description: 'verified; the verdict says whether the policy accepts it',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['result', 'ear'],
                  properties: {
                    result: { $ref: '#/components/schemas/AttestationResult' },
                    ear: {
                      type: 'string',
                      description: 'EAR (EAT Attestation Result) JWT signed by the service key',
                    },
                  },
                },
              },
            },
          },
          '400': {
            description: 'malformed request or policy',
            content: { 'application/json': { schema: errorBody } },
          },
          '413': { description: 'body too large', content: { 'application/json': { schema: errorBody } } },
          '415': {
            description: 'unsupported content type',
            content: { 'application/json': { schema: errorBody } },
          },
          '422': {
            description: 'evidence could not be verified',
            content: { 'application/json': { schema: errorBody } },
          },
          '429': {
            description: 'rate limited (see Retry-After)',
            content: { 'application/json': { schema: errorBody } },
          },
        },
      },
    },
    '/.well-known/jwks.json': {
      get: { summary: 'Public keys that sign EARs', responses: { '200': { description: 'JWKS' } } },
    },
    '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'ok' } } } },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics',
        responses: { '200': { description: 'text/plain; version=0.0.4' } },
      },
    },
    '/openapi.json': {
      get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } },
    },
  },
  components: {
    schemas: {
      AttestationResult: {
        type: 'object',
        required: [
          'platform',
          'verified',
          'verdict',
          'verifiedAt',
          'measurements',
          'debug',
          'checks',
          'errors',
          'warnings',
          'validUntil',
        ],
        properties: {
          platform: { enum: ['nitro', 'sgx', 'tdx', 'sev-snp', 'sim', 'unknown'] },
          verified: { type: 'boolean' },
          verdict: { enum: ['affirming', 'warning', 'contraindicated'] },
          verifiedAt: { type: 'string', format: 'date-time' },
          measurements: { type: 'object', additionalProperties: { type: 'string' } },
          debug: { type: 'boolean' },
          checks: { type: 'array', items: { type: 'object' } },
          errors: { type: 'array', items: { type: 'object' } },
          warnings: { type: 'array', items: { type: 'object' } },
          validUntil: { type: ['string', 'null'] },
          claims: { type: 'object' },
        },
      },
    },
  },
} as const;
