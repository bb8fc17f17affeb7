#!/bin/bash
# rtp-tshark.sh with both peers on --codec opus (RFC 7587): its ctest.
exec bash "$(dirname "$0")/rtp-tshark.sh" opus
