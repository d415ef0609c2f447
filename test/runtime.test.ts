import { describe, expect, it } from '@jest/globals';

describe('runtime', () => {
  it('runs on the Node pinned by the node@24 devDependency, as the deployed nodejs24 runtime does', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });
});
