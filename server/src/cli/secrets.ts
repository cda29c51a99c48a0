import { AuditLog, cliActor } from '../audit/audit-log.js';
import { readConfig } from '../config.js';
import { SecretKeyring } from '../connections/keyring.js';
import { rotateSecrets } from '../connections/rotation.js';
import { loadSecretKey, SecretBox } from '../connections/secrets.js';
import { openStorage } from '../storage/open.js';

/**
 * `sluice secrets rotate`: a new data key, every stored secret re-sealed with it, the older keys
 * retired; safe while servers and workers run on the same database (they read the key ring again
 * within a second). `sluice secrets key`: the key in use.
 */
export async function secretsCommand(sub: string | undefined, usage: string): Promise<number> {
  if (sub !== 'rotate' && sub !== 'key') {
    console.error(`sluice secrets: rotate or key?\n\n${usage}`);
    return 2;
  }
  const config = readConfig();
  const storage = await openStorage({ dataDir: config.dataDir, env: process.env });
  try {
    const ring = new SecretKeyring(storage.secrets, new SecretBox(loadSecretKey(config.dataDir, process.env).key));
    await ring.load();
    if (sub === 'key') {
      const key = await ring.current();
      console.log(`${key.id}\tcreated ${key.createdAt}`);
      return 0;
    }
    const result = await rotateSecrets({ ring, rows: storage.secrets, log: (line) => console.error(line) });
    // recorded once the rotation is done; a log that cannot take it does not undo the rotation
    await new AuditLog(storage.audit)
      .record({
        actor: cliActor(),
        action: 'secrets.rotated',
        objectType: 'secret_key',
        objectId: result.keyId,
        summary: { resealed: result.resealed },
      })
      .catch((err: Error) =>
        console.error(`sluice secrets rotate: done, but the audit log could not record it: ${err.message}`),
      );
    console.log(`${result.keyId}\tcreated ${result.createdAt}\tre-sealed ${result.resealed}`);
    return 0;
  } finally {
    await storage.close();
  }
}
