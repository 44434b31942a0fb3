#!/bin/sh
i=0; while [ $i -lt 400 ]; do printf 'line %04d %0100d\n' $i 0; i=$((i+1)); done
exit 3
