#!/bin/bash
# focus-audio-mix.sh with alice on --codec opus, bob and carol on PCMU (the focus mixes
# participants with different codecs): its ctest.
exec bash "$(dirname "$0")/focus-audio-mix.sh" opus
