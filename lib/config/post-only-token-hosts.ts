/**
 * Token endpoints known to refuse GET, which is what DataDirect sends when TokenURI has no `POST `
 * prefix (RFC 6749 3.2: "The client MUST use the HTTP POST method when making access token
 * requests"). tokenshim retries such a refusal as POST, but the GET has gone out by then, often
 * with a refresh token in its URL: `check` names these hosts beforehand.
 */
export const POST_ONLY_TOKEN_HOSTS: readonly {
  readonly provider: string;
  readonly host: RegExp;
}[] = [
  {
    provider: 'Google',
    host: /^(?:accounts\.google\.com|oauth2\.googleapis\.com|www\.googleapis\.com)$/,
  },
  {
    provider: 'Microsoft Entra ID',
    host: /^(?:login\.microsoftonline\.(?:com|us)|login\.partner\.microsoftonline\.cn|login\.live\.com|[a-z0-9-]+\.b2clogin\.com)$/,
  },
  {
    provider: 'Zoho',
    host: /^accounts\.zoho(?:cloud)?\.(?:com|eu|in|com\.au|jp|com\.cn|ca|sa|uk)$/,
  },
  { provider: 'Atlassian', host: /^auth\.atlassian\.com$/ },
];

/** The provider whose token endpoint `hostname` is, when it is one known to refuse GET. */
export function postOnlyTokenHost(hostname: string): string | undefined {
  const host = hostname.toLowerCase();
  return POST_ONLY_TOKEN_HOSTS.find((h) => h.host.test(host))?.provider;
}
