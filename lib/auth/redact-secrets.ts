/**
 * Second line of defence for text that came from outside (an error page, an error_description):
 * a server that echoes the request back must not make tokenshim print a secret.
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret === undefined || secret.length < 4) continue;
    const json = JSON.stringify(secret).slice(1, -1);
    for (const form of new Set([
      secret,
      encodeURIComponent(secret),
      new URLSearchParams([['', secret]]).toString().slice(1),
      // inside a JSON string, where many servers also write `/` as `\/`
      json,
      json.replaceAll('/', '\\/'),
    ])) {
      out = out.split(form).join('[redacted]');
    }
  }
  return out;
}
