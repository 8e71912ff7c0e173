// Host and domain names, validated twice from one definition: by the apiserver (CEL rules
// written into the CRD, so `kubectl apply` rejects bad input) and by the operator (zod).
import { z } from 'zod';

// RFC 1123 labels, lower-case, at least two labels, no trailing dot. RE2 and JavaScript
// read this pattern the same way, so CEL's matches() and RegExp agree.
export const DNS_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$';
const dnsNameRegExp = new RegExp(DNS_NAME_PATTERN);
export const DNS_NAME_MAX_LENGTH = 253;

export interface CelRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

interface NameRule {
  rule: string;
  test: (value: string) => boolean;
  message: (example: string) => string;
}

// Ordered from the most specific mistake to the general one, so the first message a person
// reads says exactly what to change.
const nameRules: NameRule[] = [
  {
    rule: 'self == self.lowerAscii()',
    test: (v) => v === v.toLowerCase(),
    message: (ex) => `must be lower-case (write ${ex}, not ${ex.replace(/^./, (c) => c.toUpperCase())})`,
  },
  {
    rule: "!self.endsWith('.')",
    test: (v) => !v.endsWith('.'),
    message: (ex) => `must not end with a dot (write ${ex}, not ${ex}.)`,
  },
  {
    // An IP literal such as 192.0.2.1 passes the label pattern; Outlook and certificates
    // need a name (RFC 1123 2.1: a top-level label is never all digits).
    rule: "!self.matches('\\\\.[0-9]+$')",
    test: (v) => !/\.[0-9]+$/.test(v),
    message: (ex) => `must be a host name, not an IP address (its last label is all digits): write a name such as ${ex}`,
  },
  {
    rule: `self.matches('${DNS_NAME_PATTERN.replaceAll('\\', '\\\\')}')`,
    test: (v) => dnsNameRegExp.test(v),
    message: (ex) =>
      `must be a valid DNS name such as ${ex}: labels of a-z, 0-9 and '-', separated by dots, each at most 63 characters, at least two labels`,
  },
];

/** A lower-case DNS name field; `example` shows up in the messages as the fix to copy. */
export function dnsName(example: string) {
  const rules: CelRule[] = nameRules.map((r) => ({ rule: r.rule, message: r.message(example) }));
  let schema = z.string().min(1).max(DNS_NAME_MAX_LENGTH);
  for (const r of nameRules) {
    schema = schema.refine((v) => r.test(v), { message: r.message(example), abort: true });
  }
  return schema.meta({ 'x-kubernetes-validations': rules });
}

export function isDnsName(value: string): boolean {
  return nameRules.every((r) => r.test(value));
}
