// Tests reach the seeded generator through TestSupport, as before it moved to Common.
@_exported import struct Common.SplitMix64
