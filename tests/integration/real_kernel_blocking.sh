#!/bin/bash
# USB blocking proven on Debian's own kernel: tests/e2e/run.sh boots it under
# QEMU with udevd, the generated rules and mynaguardd, hot-plugs sticks, a
# keyboard and a card reader, and the guest checks what the kernel did.
# ctest-labels: noasan e2e
# noasan: the guest runs the release binaries; the proof is about what the
# kernel binds, which a sanitizer build of the host programs cannot change.
source "$(dirname "$0")/lib.sh"
bash "$MG_SOURCE_DIR/tests/e2e/run.sh" || fail "real-kernel checks failed (console: $MG_BUILD_DIR/e2e/console.log)"
ok "every real-kernel check passed"
