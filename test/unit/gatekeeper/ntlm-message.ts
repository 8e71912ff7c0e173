// Test helper: builds NTLM messages the way a Windows client does.
/** An NTLM AUTHENTICATE_MESSAGE ([MS-NLMP] 2.2.1.3) with just the fields the reader uses. */
export function ntlmAuthenticate(user: string, domain = 'EXAMPLE', unicode = true): Buffer {
  const enc = (s: string) => Buffer.from(s, unicode ? 'utf16le' : 'latin1');
  const d = enc(domain);
  const u = enc(user);
  const header = Buffer.alloc(64);
  header.write('NTLMSSP\0', 0, 'latin1');
  header.writeUInt32LE(3, 8);
  header.writeUInt16LE(d.length, 28); header.writeUInt16LE(d.length, 30); header.writeUInt32LE(64, 32);
  header.writeUInt16LE(u.length, 36); header.writeUInt16LE(u.length, 38); header.writeUInt32LE(64 + d.length, 40);
  header.writeUInt32LE(unicode ? 0x1 : 0x2, 60);
  return Buffer.concat([header, d, u]);
}
