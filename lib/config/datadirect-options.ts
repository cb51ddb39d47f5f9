/**
 * Options of DataDirect's Autonomous REST Connector that tokenshim does not use: they steer the
 * driver's SQL engine, its Java runtime or its logging. A DSN written for DataDirect carries
 * them, so they are no typos: unknown-key reporting says "DataDirect option, not used by
 * tokenshim" with the line below instead of "did you mean".
 *
 * `secret` marks values DataDirect treats as secrets (and encrypts in Windows DSNs: documented for
 * SecurityToken, inferred for the others): tokenshim masks them and recognises their encrypted form.
 * DataDirect options tokenshim does use (JWTCertStore and its password and alias) are catalogue
 * entries (catalogue.ts), never rows here.
 */
export interface DataDirectOption {
  readonly name: string;
  /** what DataDirect uses it for, in one line */
  readonly purpose: string;
  readonly secret?: true;
}

export const DATADIRECT_OPTIONS: readonly DataDirectOption[] = [
  {
    name: 'CreateMap',
    purpose:
      'whether the driver creates, keeps or refreshes its relational map of the REST data on connect',
  },
  {
    name: 'SchemaMap',
    purpose: 'the file where the driver stores the relational map (tables and columns) it built',
  },
  {
    name: 'RefreshSchema',
    purpose: 'whether the driver samples the endpoints again to rebuild the relational map',
  },
  { name: 'RestSampleSize', purpose: 'how many rows the driver samples to infer column types' },
  { name: 'Table', purpose: 'the table name the RestSamplePath endpoint maps to' },
  {
    name: 'WSTimeout',
    purpose:
      'seconds the driver waits for a REST response before it gives up (tokenshim: ConnectTimeout, HeadersTimeout, BodyTimeout)',
  },
  { name: 'WSRetryCount', purpose: 'how often the driver retries a request that timed out' },
  { name: 'WSPoolSize', purpose: 'how many sessions the driver keeps open to the REST service' },
  { name: 'WSFetchSize', purpose: 'how many rows the driver fetches per page of results' },
  {
    name: 'IANAAppCodePage',
    purpose:
      'the code page the ODBC driver converts character data to for the application (UNIX/Linux)',
  },
  {
    name: 'ApplicationUsingThreads',
    purpose: 'whether the ODBC driver guards against multithreaded applications',
  },
  {
    name: 'ConfigOptions',
    purpose: 'extra settings that change how the driver maps JSON to tables',
  },
  {
    name: 'DefaultColumnSize',
    purpose: 'the size the driver gives string columns whose length it cannot infer',
  },
  { name: 'JVMArgs', purpose: 'arguments for the Java virtual machine the driver runs in' },
  {
    name: 'JVMClasspath',
    purpose: 'the class path of the Java virtual machine the driver runs in',
  },
  { name: 'LogConfigFile', purpose: "the driver's Java logging configuration file" },
  { name: 'LoginTimeout', purpose: 'seconds the driver waits for a connection to be established' },
  {
    name: 'EnableLoginPrompt',
    purpose:
      'whether the driver opens a browser for the authorization code flow on connect (tokenshim login does this)',
  },
  {
    name: 'SQLEngineMode',
    purpose: "where the driver's SQL engine runs (in process or as a server)",
  },
  { name: 'ServerPortNumber', purpose: "the port of the driver's SQL engine server" },
  {
    name: 'EncryptionMethod',
    purpose: 'whether the driver uses TLS (tokenshim follows the URL scheme of HostName)',
  },
  {
    name: 'CustomAuthParams',
    purpose:
      "values for the Model file's custom authentication steps (AuthenticationMethod=29, not supported)",
  },
  {
    name: 'LogoffURI',
    purpose: 'the URI the driver calls to end an OAuth session when it disconnects',
  },
  { name: 'AccessKey', purpose: 'the AWS access key (AuthenticationMethod=43, not supported)' },
  {
    name: 'SecretKey',
    purpose: 'the AWS secret key (AuthenticationMethod=43, not supported)',
    secret: true,
  },
  { name: 'Region', purpose: 'the AWS region (AuthenticationMethod=43, not supported)' },
  {
    name: 'TrustStorePassword',
    purpose:
      "the password of the driver's Java trust store (tokenshim reads PEM files in TrustStore)",
    secret: true,
  },
  { name: 'KeyStore', purpose: "the driver's Java key store for TLS client certificates" },
  {
    name: 'KeyStorePassword',
    purpose: "the password of the driver's Java key store",
    secret: true,
  },
  {
    name: 'KeyPassword',
    purpose: "the password of the client key in the driver's Java key store",
    secret: true,
  },
];

const BY_NAME: ReadonlyMap<string, DataDirectOption> = new Map(
  DATADIRECT_OPTIONS.map((o) => [o.name.toLowerCase(), o]),
);

/** The DataDirect option of that name (any case), if it is one. */
export function lookupDataDirectOption(key: string): DataDirectOption | undefined {
  return BY_NAME.get(key.trim().toLowerCase());
}
