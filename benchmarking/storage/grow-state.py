#!/usr/bin/env python3
"""Grows a raw chain spec's genesis state by N accounts, for `benchmark storage`.

The storage benchmark times reads and writes of the keys of a real database; a dev chain's
genesis holds a few hundred keys, so its trie is two levels deep and every read is cheap. A chain
holding real money has a million accounts or more (the scale benchmark's 1,000,000 positions):
this adds N `System::Account` entries (a 32-byte account, `Blake2_128Concat`, and an
`AccountInfo` of a funded account with one provider), so the trie has the depth of such a chain.

    grow-state.py N < raw-spec.json > grown-spec.json

The entries do not change the total issuance (the benchmark reads and writes keys; it executes
no block), and the accounts are deterministic (account i is blake2b-256 of "margincall-i").
"""
import hashlib
import json
import sys

# twox128("System") ++ twox128("Account"): the prefix of `frame_system::Account`.
SYSTEM_ACCOUNT = "26aa394eea5630e07c48ae0c9558cef7b99d880ec681799c0cf30e8886371da9"
NEW_LOGIC = 1 << 127  # pallet_balances::ExtraFlags' new-logic bit


def u32(n):
    return n.to_bytes(4, "little")


def u128(n):
    return n.to_bytes(16, "little")


def main():
    n = int(sys.argv[1])
    spec = json.load(sys.stdin)
    top = spec["genesis"]["raw"]["top"]
    before = len(top)
    for i in range(n):
        account = hashlib.blake2b(f"margincall-{i}".encode(), digest_size=32).digest()
        key = bytes.fromhex(SYSTEM_ACCOUNT) + hashlib.blake2b(account, digest_size=16).digest() + account
        free = 10**12 + i * 1_000_003
        value = u32(0) + u32(0) + u32(1) + u32(0) + u128(free) + u128(0) + u128(0) + u128(NEW_LOGIC)
        top["0x" + key.hex()] = "0x" + value.hex()
    json.dump(spec, sys.stdout)
    print(f"grow-state: {before} keys + {n} accounts = {len(top)} keys", file=sys.stderr)


if __name__ == "__main__":
    main()
