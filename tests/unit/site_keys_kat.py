#!/usr/bin/env python3
"""The known answers of tests/unit/test_hash.c's site keys and digests,
computed apart from libsodium: SipHash-2-4 (64 and 128-bit output) written
out below from the paper, checked against the paper's first vectors, and
libsodium's crypto_kdf as Python's hashlib.blake2b with salt (the subkey
number, little-endian, zero-padded) and person (the context, zero-padded).

    python3 tests/unit/site_keys_kat.py > tests/unit/site_keys_kat.inc
"""
import hashlib
import struct

M = (1 << 64) - 1


def rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & M


def sipround(v):
    v0, v1, v2, v3 = v
    v0 = (v0 + v1) & M; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
    v2 = (v2 + v3) & M; v3 = rotl(v3, 16); v3 ^= v2
    v0 = (v0 + v3) & M; v3 = rotl(v3, 21); v3 ^= v0
    v2 = (v2 + v1) & M; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
    return [v0, v1, v2, v3]


def siphash(key, msg, wide):
    k0, k1 = struct.unpack("<QQ", key)
    v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d,
         k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]
    if wide:
        v[1] ^= 0xee
    full = len(msg) // 8 * 8
    for i in range(0, full, 8):
        m = struct.unpack("<Q", msg[i:i + 8])[0]
        v[3] ^= m
        v = sipround(sipround(v))
        v[0] ^= m
    b = (len(msg) & 0xff) << 56
    for i, c in enumerate(msg[full:]):
        b |= c << (8 * i)
    v[3] ^= b
    v = sipround(sipround(v))
    v[0] ^= b
    v[2] ^= 0xee if wide else 0xff
    for _ in range(4):
        v = sipround(v)
    out = struct.pack("<Q", v[0] ^ v[1] ^ v[2] ^ v[3])
    if wide:
        v[1] ^= 0xdd
        for _ in range(4):
            v = sipround(v)
        out += struct.pack("<Q", v[0] ^ v[1] ^ v[2] ^ v[3])
    return out


def kdf(master, ctx, i, n):
    return hashlib.blake2b(b"", digest_size=n, key=master, salt=struct.pack("<Q", i) + bytes(8),
                           person=ctx + bytes(8)).digest()


def digest(keys, fields):
    m = bytearray(1 + 4 * 16)
    for i, f in enumerate(fields):
        if f is not None:
            m[0] |= 1 << i
            m[1 + 16 * i:17 + 16 * i] = siphash(keys["field"], f, True)
    return siphash(keys["digest"], bytes(m), True)


def site_keys(secret, root=None):
    root = root or kdf(secret, b"thrshdig", 0, 32)
    return {"root": root, "ident": kdf(secret, b"thrshidt", 1, 16),
            "digest": kdf(root, b"thrshdig", 1, 16), "field": kdf(root, b"thrshdig", 2, 16)}


def c_bytes(b):
    return "{" + ", ".join("0x%02x" % x for x in b) + "}"


def main():
    k = bytes(range(16))
    assert siphash(k, b"", False).hex() == "310e0edd47db6f72"  # the paper, 64-bit
    assert siphash(k, b"", True).hex() == "a3817f04ba25a8e66df67214c7550293"  # 128-bit
    a = site_keys(bytes(range(32)))                  # a secret 00..1f alone
    b = site_keys(bytes(range(32, 64)), a["root"])   # 20..3f, a's root kept
    print("/* site_keys_kat.inc - made by site_keys_kat.py; do not edit */")
    for name, keys in (("a", a), ("b", b)):
        for part in ("root", "ident", "digest", "field"):
            print("static const unsigned char kat_%s_%s[] = %s;" % (name, part, c_bytes(keys[part])))
    print("/* content \"hi\", author \"Ann\", no e-mail, url \"\" under a's keys */")
    print("static const unsigned char kat_digest[] = %s;" %
          c_bytes(digest(a, [b"hi", b"Ann", None, b""])))
    print("/* the identity token ip24:203.0.113 under a's identity key */")
    print("static const uint64_t kat_ip24 = 0x%016xull;" %
          struct.unpack("<Q", siphash(a["ident"], b"ip24:203.0.113", False))[0])


if __name__ == "__main__":
    main()
