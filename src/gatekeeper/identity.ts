// The authenticated user of a request, where it can be read cheaply and without trusting it
// for anything but refusing: the server still authenticates every request itself, so a forged
// identity can only get its sender refused, never let in.
//   Basic (RFC 7617): "user:password", base64; the user is an address when it has an "@".
//   NTLM ([MS-NLMP] 2.2.1.3 AUTHENTICATE_MESSAGE): UserName and DomainName security buffers;
//   a user principal name ("u@D") is an address. NTLM authenticates the connection, not the
//   request, so the caller remembers it per socket.

const ADDRESS = /^[^\s@:\\]{1,256}@[^\s@]{1,255}$/;
const NTLM_SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
const NTLM_AUTHENTICATE = 3;
const NTLMSSP_NEGOTIATE_UNICODE = 0x1;
const MAX_CREDENTIAL_BYTES = 8192;

export interface Identity {
  scheme: 'basic' | 'ntlm';
  /** Lower-cased address, or undefined when the user name is not one (e.g. DOMAIN\user). */
  address: string | undefined;
}

export function identityOf(authorization: string | undefined): Identity | undefined {
  if (!authorization) return undefined;
  const space = authorization.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = authorization.slice(0, space).toLowerCase();
  const token = authorization.slice(space + 1).trim();
  if (token.length > (MAX_CREDENTIAL_BYTES * 4) / 3) return undefined;
  const raw = Buffer.from(token, 'base64');
  if (scheme === 'basic') {
    const text = raw.toString('utf8');
    const colon = text.indexOf(':');
    const user = (colon < 0 ? text : text.slice(0, colon)).trim();
    return { scheme: 'basic', address: ADDRESS.test(user) ? user.toLowerCase() : undefined };
  }
  // Negotiate may carry a raw NTLM message instead of a SPNEGO token.
  if (scheme === 'ntlm' || scheme === 'negotiate') {
    const user = ntlmUser(raw);
    if (user === undefined) return undefined;
    return { scheme: 'ntlm', address: ADDRESS.test(user) ? user.toLowerCase() : undefined };
  }
  return undefined;
}

/** UserName of an NTLM AUTHENTICATE_MESSAGE, or undefined for any other message. */
export function ntlmUser(msg: Buffer): string | undefined {
  if (msg.length < 64 || !msg.subarray(0, 8).equals(NTLM_SIGNATURE) || msg.readUInt32LE(8) !== NTLM_AUTHENTICATE) return undefined;
  const length = msg.readUInt16LE(36);
  const offset = msg.readUInt32LE(40);
  if (length === 0 || length > 512 || offset + length > msg.length) return undefined;
  const flags = msg.readUInt32LE(60);
  const bytes = msg.subarray(offset, offset + length);
  return (flags & NTLMSSP_NEGOTIATE_UNICODE) !== 0 ? bytes.toString('utf16le') : bytes.toString('latin1');
}
