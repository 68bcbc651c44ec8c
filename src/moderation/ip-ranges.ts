import ipaddr from 'ipaddr.js';

/**
 * Addresses and CIDR ranges, IPv4 and IPv6, with ipaddr.js. An IPv4 address seen as IPv6
 * (`::ffff:203.0.113.5`, what a dual-stack socket reports) is matched as IPv4.
 */

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

export interface IpRange {
  /** Normalized text: `203.0.113.0/24`, `2001:db8::/32`; a single address is /32 or /128. */
  text: string;
  address: IpAddress;
  bits: number;
}

export class IpRangeError extends Error {}

/** The client address as ipaddr.js sees it, or null when it is not an address. */
export function parseAddress(text: string): IpAddress | null {
  try {
    return ipaddr.process(text.trim());
  } catch {
    return null;
  }
}

/** `ADDRESS` or `ADDRESS/BITS`; the address part is reduced to the network (203.0.113.7/24 → 203.0.113.0/24). */
export function parseRange(text: string): IpRange {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const address = parseAddress(slash >= 0 ? trimmed.slice(0, slash) : trimmed);
  if (!address) throw new IpRangeError(`"${text}" is not an IP address or CIDR range`);
  const max = address.kind() === 'ipv4' ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const bitsText = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > max) throw new IpRangeError(`"${text}": the prefix length must be 0 to ${max}`);
    bits = Number(bitsText);
  }
  const network = networkOf(address, bits);
  return { text: `${network.toString()}/${bits}`, address: network, bits };
}

function networkOf(address: IpAddress, bits: number): IpAddress {
  const bytes = address.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] &= (0xff << (8 - keep)) & 0xff;
  }
  return ipaddr.fromByteArray(bytes) as IpAddress;
}

export function rangeContains(range: IpRange, address: IpAddress): boolean {
  if (address.kind() !== range.address.kind()) return false;
  return (address as ipaddr.IPv4).match(range.address as ipaddr.IPv4, range.bits);
}

/** SQL LIKE prefixes cannot express ranges; callers filter rows by this after a coarse query. */
export function addressInRange(rangeText: string, addressText: string | null): boolean {
  if (!addressText) return false;
  const address = parseAddress(addressText);
  return address !== null && rangeContains(parseRange(rangeText), address);
}
