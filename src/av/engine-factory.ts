// Builds the built-in clamd engine from mailgw.conf, as an engine factory for loadEngines().
//
// With [mailgw.local] Clamd=true the engine talks to the private clamds under <instance>/var/clamd,
// one per AVScanArchives/AVScanMailBases combination (local-clamd.ts), else to ClamdSocket of
// [mailgw.antivirus]. Each request is bounded by ScanTimeout of [mailgw.timeouts], and at most
// AntiviralSessions of [mailgw.limits] objects are scanned at once in one Haraka process.

import type { EngineFactoryContext } from '../pipeline/engine-loader';
import type { EngineSet } from '../pipeline/engines';
import { ClamdClient } from './clamd';
import type { ClamdScanOptions } from './clamd-service';
import { ClamdEngine } from './engine';
import { externalSocketText, localClamdSocket, localDatabaseDir, scanVariantsInUse, variantName } from './local-clamd';
import { packageRoot } from '../cli/paths';

export function createClamdEngines({ config }: EngineFactoryContext): Partial<EngineSet> {
  const clientOptions = { timeoutMs: config.timeouts.ScanTimeout * 1000, maxConcurrent: config.limits.AntiviralSessions };

  if (!config.local.Clamd) {
    const client = new ClamdClient({ socket: externalSocketText(config), ...clientOptions });
    const engine = new ClamdEngine({ clientFor: () => client, versionClient: client, databaseDirs: [String(config.antivirus.ClamdDatabaseDirectory)], maxConcurrent: clientOptions.maxConcurrent });
    return { antivirus: engine };
  }

  const clients = new Map<string, ClamdClient>();
  const clientFor = (scan: ClamdScanOptions): ClamdClient => {
    const name = variantName(scan);
    let client = clients.get(name);
    if (!client) {
      client = new ClamdClient({ socket: localClamdSocket(config, scan), ...clientOptions });
      clients.set(name, client);
    }
    return client;
  };
  const first = scanVariantsInUse(config)[0] ?? { archives: true, mail: true };
  const engine = new ClamdEngine({
    clientFor,
    versionClient: clientFor(first),
    databaseDirs: [localDatabaseDir(packageRoot())],
    maxConcurrent: clientOptions.maxConcurrent,
  });
  return { antivirus: engine };
}
