import type { CredentialProvider } from '../../auth/credential.js';
import type { DsnConfig } from '../../config/dsn.js';
import type { ReloadResult } from '../bindings.js';

/**
 * What an admin route may ask of the proxy it serves: its DSNs, their token engines and URLs, and
 * a reload. Routes get only this, never the server, so they cannot close it, swap its CONNECT
 * handler or forward requests, and lib/proxy/admin never depends on lib/proxy/server.ts.
 */
export interface AdminHost {
  dsns(): readonly DsnConfig[];
  /** the DSN's token engine (names ignore case), undefined when unknown */
  provider(name: string): CredentialProvider | undefined;
  providers(): ReadonlyMap<string, CredentialProvider>;
  /** the gateway URL of a DSN (`http://127.0.0.1:8790/marketo`), undefined when unknown */
  dsnUrl(name: string): string | undefined;
  /** `http://127.0.0.1:9001` for a DSN with ListenPort, else undefined */
  dedicatedUrl(name: string): string | undefined;
  /** re-reads the config source and applies it; in-flight requests are not cut */
  reload(): Promise<ReloadResult>;
}
