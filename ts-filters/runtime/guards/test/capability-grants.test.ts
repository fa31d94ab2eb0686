import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { NO_CAPABILITIES, parseCapabilities } from '../capabilities';
import { CapabilityGrants } from '../capability-grants';

describe('CapabilityGrants', () => {
  test('nothing is granted until a config grants it', () => {
    const grants = new CapabilityGrants();
    assert.equal(grants.has('fsWrite'), false);
    assert.throws(() => grants.check('fsWrite', 'fs.writeFileSync()'), {
      code: 'ETS_ERR_CAPABILITY',
      message: 'fs.writeFileSync() is not available to filters: set "capabilities": {"fsWrite": true} ' +
        'in the filter_config',
    });
  });

  test('the grants in force are the union of the loaded configs\' grants', () => {
    const grants = new CapabilityGrants();
    grants.grant(1, parseCapabilities({ fsWrite: true }));
    grants.grant(2, parseCapabilities({ envWrite: true }));
    grants.grant(3, NO_CAPABILITIES);
    assert.ok(grants.has('fsWrite') && grants.has('envWrite'));
    assert.ok(!grants.has('childProcess') && !grants.has('workerThreads'));
    grants.check('envWrite', 'writing process.env');
    grants.revoke(1);
    assert.ok(!grants.has('fsWrite') && grants.has('envWrite'));
    grants.revoke(2);
    grants.revoke(99);
    assert.ok(!grants.has('envWrite'));
  });

  test('a config loaded again replaces its grant', () => {
    const grants = new CapabilityGrants();
    grants.grant(1, parseCapabilities({ childProcess: true }));
    grants.grant(1, parseCapabilities({ workerThreads: true }));
    assert.ok(!grants.has('childProcess') && grants.has('workerThreads'));
  });
});
