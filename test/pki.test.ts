import { describe, expect, it } from 'vitest';
import { AWS_NITRO_ROOT_G1, loadPinnedCertificate, pinnedAnchor } from '../src/pki/index.js';

describe('pinned roots', () => {
  it('loads the AWS Nitro root G1 by its pinned fingerprint', async () => {
    const root = loadPinnedCertificate(AWS_NITRO_ROOT_G1);
    expect(root.subject).toBe('C=US, O=Amazon, OU=AWS, CN=aws.nitro-enclaves');
    expect(root.isCa).toBe(true);
    const anchor = await pinnedAnchor(AWS_NITRO_ROOT_G1);
    expect(anchor.certificate.fingerprint).toBe(
      '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b',
    );
  });
});
