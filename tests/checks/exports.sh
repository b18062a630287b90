#!/bin/sh
# Every symbol the libraries export starts with shunt_; the preload library
# may export only the libc names it interposes (listed in its X-macro file).
set -eu
BUILD=${BUILD:-build}
bad=0
for so in "$BUILD"/libshunt.so; do
	[ -f "$so" ] || { echo "$so not built"; exit 1; }
	n=$(nm -D --defined-only "$so" | awk '{print $3}' | wc -l)
	others=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^shunt_' || true)
	echo "$so: $n exported symbols"
	if [ -n "$others" ]; then
		echo "$so exports non-shunt_ symbols:"; echo "$others" | head -20; bad=1
	fi
	[ "$n" -gt 20 ] || { echo "suspiciously few exports in $so"; bad=1; }
done
if [ -f "$BUILD/libshunt-preload.so" ]; then
	allowed=$(sed -n 's/^[[:space:]]*X(\([a-z_0-9]*\),.*/\1/p' preload/calls.h | sort -u)
	for sym in $(nm -D --defined-only "$BUILD/libshunt-preload.so" | awk '{print $3}'); do
		case "$sym" in shunt_*) continue ;; esac
		echo "$allowed" | grep -qx "$sym" || { echo "preload exports $sym, not in preload/calls.h"; bad=1; }
	done
fi
# The core archive must not define mutable globals (all state lives in struct shunt_stack):
# no object symbols in .data or .bss (read-only tables with relocations live in .data.rel.ro).
globals=$(objdump -t "$BUILD/libshunt-core.a" 2>/dev/null |
	awk '$3 == "O" && ($4 == ".data" || $4 == ".bss" || $4 ~ /^\.(data|bss)\./) && $4 !~ /^\.data\.rel\.ro/ {print $NF}' |
	sort -u || true)
if [ -n "$globals" ]; then
	echo "mutable globals in the core:"; echo "$globals"; bad=1
fi
exit $bad
