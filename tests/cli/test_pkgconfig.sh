#!/bin/sh
# test_pkgconfig.sh BUILD_DIR CC [CFLAGS] - a program using only include/clnet.h compiles and
# links with `pkg-config --cflags --libs clnet` against the build tree
# (PKG_CONFIG_PATH=BUILD_DIR) and against an installation (cmake --install --prefix),
# and with find_package(clnet) in a CMake project; each runs and prints the version.
build="$1" cc="$2" cflags="${3:-}"
fails=0 passes=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/version.c" <<'PROGRAM'
#include <stdio.h>

#include <clnet.h>

int main(void)
{
    printf("clnet %s, %s\n", clnet_version(), clnet_status_string(CLNET_OK));
    return 0;
}
PROGRAM
want="clnet $(sed -n 's/^Version: //p' "$build/clnet.pc"), ok"
compile_and_run() { # name, PKG_CONFIG_PATH, extra environment for the run
    name=$1 path=$2
    flags=$(PKG_CONFIG_PATH="$path" pkg-config --cflags --libs clnet 2>&1) &&
        "$cc" -std=c11 -Wall -Werror $cflags "$work/version.c" $flags -o "$work/$name" 2>&1 &&
        out=$(env $3 "$work/$name" 2>&1)
    if [ $? = 0 ] && [ "$out" = "$want" ]; then
        passes=$((passes + 1)); echo "PASS $name"
    else
        fails=$((fails + 1)); echo "FAIL $name: flags '$flags', output '$out'"
    fi
}
compile_and_run pkgconfig-build-tree "$build"
cmake --install "$build" --prefix "$work/prefix" >/dev/null 2>&1
pc=$(find "$work/prefix" -name clnet.pc)
lib=$(dirname "$(dirname "$pc")")
compile_and_run pkgconfig-installed "$(dirname "$pc")" "LD_LIBRARY_PATH=$lib"
mkdir -p "$work/project"
cp "$work/version.c" "$work/project/"
cat >"$work/project/CMakeLists.txt" <<'PROJECT'
cmake_minimum_required(VERSION 3.16)
project(uses_clnet C)
find_package(clnet 0 REQUIRED)
add_executable(version version.c)
target_link_libraries(version PRIVATE clnet::clnet)
PROJECT
if cmake -S "$work/project" -B "$work/project/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
        -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$cflags" >"$work/cmake.log" 2>&1 &&
    cmake --build "$work/project/build" >>"$work/cmake.log" 2>&1 &&
    [ "$(LD_LIBRARY_PATH="$lib" "$work/project/build/version")" = "$want" ]; then
    passes=$((passes + 1)); echo "PASS find-package"
else
    fails=$((fails + 1)); echo "FAIL find-package:"; cat "$work/cmake.log"
fi
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
