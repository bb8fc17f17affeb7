#!/bin/bash
# invite-audio-direct.sh with both peers on --codec opus (RFC 7587): its ctest.
exec bash "$(dirname "$0")/invite-audio-direct.sh" opus
