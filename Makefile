# torpor - snapshot-on-suspend virtual machine monitor for arm64 Linux/KVM.
#
#   make            build torpor for arm64 (cross-compiled, static, on other hosts)
#                   and the host-native CLI, libraries and tests
#   make check      unit tests (plain and ASan/UBSan), fuzz smoke run, rig scenarios
#   make demo       boot the default guest, hibernate it, restore it
#   make shell      a shell on a host with /dev/kvm (the rig's, on x86) to try torpor by hand
#   make bench      image engine benchmark
#   make soak       100 hibernate/restore cycles in the rig (SOAK_CYCLES=N)
#   make install    prefix=/usr/local DESTDIR=
#   V=1             show commands

VERSION := 0.1.0
HOST_ARCH := $(shell uname -m)

ifeq ($(HOST_ARCH),aarch64)
CROSS_COMPILE ?=
else
CROSS_COMPILE ?= aarch64-linux-gnu-
endif
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
HOSTCC ?= gcc
OBJCOPY := $(CROSS_COMPILE)objcopy
prefix ?= /usr/local
DESTDIR ?=

ifeq ($(V),1)
Q :=
else
Q := @
endif

B := build
DEPS_DIR := $(B)/deps
# Cross builds link the arm64 static libraries scripts/deps.sh unpacks (decided
# by the host, not by what exists yet: deps runs after the Makefile is read);
# native arm64 builds use the system's.
SYSROOT := $(DEPS_DIR)/arm64
ifneq ($(HOST_ARCH),aarch64)
TARGET_LIBDIR := -L$(SYSROOT)/usr/lib/aarch64-linux-gnu
TARGET_INC := -idirafter $(SYSROOT)/usr/include
endif

WARN := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -D_GNU_SOURCE \
	-DTORPOR_VERSION=\"$(VERSION)\" -MMD -MP
CFLAGS ?=
HOST_CFLAGS ?=

# Host-independent code: the image library, device models, the machine
# description (device tree, boot layout), the virtio transport, host
# utilities, the command-line parser and the control socket's client (ctl.c).
# Built natively for the unit tests and for the arm64 binary alike.
LIB_SRCS := $(wildcard src/image/*.c src/dev/*.c src/machine/*.c src/host/*.c \
	src/util/*.c src/virtio/*.c) src/cli/run_options.c src/cli/ctl.c
# KVM-only code (arm64): the live VM.
KVM_SRCS := $(wildcard src/vm/*.c)
CLI_SRCS := $(filter-out src/cli/run_options.c src/cli/ctl.c,$(wildcard src/cli/*.c))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
GUEST_SRCS := $(wildcard tests/guests/*.S)
BENCH_SRCS := $(wildcard tests/bench/*.c)
# Test tools that run inside the rig next to torpor (arm64, static).
TOOL_SRCS := $(wildcard tests/tools/*.c)

LIBS := -lzstd -lfdt -lpthread

# --- arm64 monitor -----------------------------------------------------------
T := $(B)/arm64
T_OBJS := $(patsubst %.c,$(T)/%.o,$(LIB_SRCS) $(KVM_SRCS) $(CLI_SRCS))
TORPOR := $(T)/torpor
T_LIB_OBJS := $(patsubst %.c,$(T)/%.o,$(LIB_SRCS))
# The tools link the library as an archive: each gets only the objects it
# uses (blkbench, shipped on the guests' root disk, none of them).
T_LIB := $(T)/libtorpor.a
T_TOOLS := $(patsubst tests/tools/%.c,$(T)/tools/%,$(TOOL_SRCS))

# --- host-native library, CLI and tests ---------------------------------------
H := $(B)/host
H_LIB_OBJS := $(patsubst %.c,$(H)/%.o,$(LIB_SRCS))
H_CLI_OBJS := $(patsubst %.c,$(H)/%.o,$(CLI_SRCS))
H_LIB := $(H)/libtorpor.a
ifeq ($(HOST_ARCH),aarch64)
H_KVM_OBJS := $(patsubst %.c,$(H)/%.o,$(KVM_SRCS))
H_KVM_FLAGS := -DTORPOR_KVM=1
endif
H_TORPOR := $(H)/torpor
UNIT_BINS := $(patsubst tests/unit/%.c,$(H)/tests/%,$(UNIT_SRCS))

# Sanitizer build of the library and the unit tests.
A := $(B)/asan
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
A_LIB_OBJS := $(patsubst %.c,$(A)/%.o,$(LIB_SRCS))
A_UNIT_BINS := $(patsubst tests/unit/%.c,$(A)/tests/%,$(UNIT_SRCS))

GUEST_BINS := $(patsubst tests/guests/%.S,$(B)/guests/%.bin,$(GUEST_SRCS))

.PHONY: all deps check unit unit-asan fuzz demo shell bench rig soak install clean
all: $(TORPOR) $(H_TORPOR) $(UNIT_BINS) $(GUEST_BINS) $(T_TOOLS)

deps:
	$(Q)scripts/deps.sh

$(T)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(BASE_CFLAGS) -DTORPOR_KVM=1 $(TARGET_INC) $(CFLAGS) -c -o $@ $<

$(TORPOR): $(T_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -static -o $@ $^ $(TARGET_LIBDIR) $(LIBS)

$(T_LIB): $(T_LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(CROSS_COMPILE)ar rcs $@ $^

$(T)/tools/%: tests/tools/%.c $(T_LIB) | deps
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TOOL    $@")
	$(Q)$(CC) $(BASE_CFLAGS) $(TARGET_INC) -static -o $@ $< $(T_LIB) $(TARGET_LIBDIR) $(LIBS)

$(H)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(HOSTCC) $(BASE_CFLAGS) $(H_KVM_FLAGS) $(HOST_CFLAGS) -c -o $@ $<

$(H_LIB): $(H_LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(H_TORPOR): $(H_CLI_OBJS) $(H_KVM_OBJS) $(H_LIB)
	@$(if $(Q),echo "  HOSTLD  $@")
	$(Q)$(HOSTCC) -o $@ $^ $(LIBS)

# A test may interpose on libc calls the library makes (fault injection).
$(H)/tests/test_image_dirsync $(A)/tests/test_image_dirsync: TEST_LDFLAGS := -Wl,--wrap=fsync

$(H)/tests/%: tests/unit/%.c $(H_LIB) | deps
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(HOSTCC) $(BASE_CFLAGS) $(HOST_CFLAGS) -o $@ $< $(H_LIB) -lcriterion $(LIBS) \
		$(TEST_LDFLAGS)

$(A)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  ASANCC  $@")
	$(Q)$(HOSTCC) $(BASE_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(A)/libtorpor.a: $(A_LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(A)/tests/%: tests/unit/%.c $(A)/libtorpor.a | deps
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  ASANTST $@")
	$(Q)$(HOSTCC) $(BASE_CFLAGS) $(SAN_FLAGS) -o $@ $< $(A)/libtorpor.a -lcriterion $(LIBS) \
		$(TEST_LDFLAGS)

# Bare-metal test guests, linked at the start of guest RAM.
$(B)/guests/%.bin: tests/guests/%.S include/memmap.h $(wildcard tests/guests/*.h) | deps
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GUEST   $@")
	$(Q)$(CROSS_COMPILE)gcc -Iinclude -Itests/guests -nostdlib -static -Wl,-Ttext=0x80000000 \
		-Wl,--build-id=none -o $(B)/guests/$*.elf $<
	$(Q)$(OBJCOPY) -O binary $(B)/guests/$*.elf $@

# Fuzzers: libFuzzer with clang, on the host library sources.
F := $(B)/fuzz
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(F)/%,$(FUZZ_SRCS))
$(F)/%: tests/fuzz/%.c $(LIB_SRCS) | deps
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)clang -std=gnu11 -O1 -g -Iinclude -D_GNU_SOURCE -DTORPOR_VERSION=\"$(VERSION)\" \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(LIB_SRCS) $(LIBS)

BENCH_BINS := $(patsubst tests/bench/%.c,$(H)/bench/%,$(BENCH_SRCS))
$(H)/bench/%: tests/bench/%.c $(H_LIB) | deps
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(BASE_CFLAGS) -O3 -o $@ $< $(H_LIB) $(LIBS)

unit: $(UNIT_BINS)
unit-asan: $(A_UNIT_BINS)
fuzz: $(FUZZ_BINS)

check: all unit-asan fuzz
	$(Q)scripts/check.sh

rig: all
	$(Q)scripts/rig.sh $(SCENARIOS)

soak: all
	$(Q)scripts/soak.sh

demo: all
	$(Q)RIG_DEMO=1 scripts/rig.sh

shell: all
	$(Q)RIG_SHELL=1 scripts/rig.sh

bench: $(BENCH_BINS) $(H_TORPOR)
	$(Q)scripts/bench.sh

install: $(if $(filter aarch64,$(HOST_ARCH)),$(H_TORPOR),$(TORPOR))
	install -D -m 0755 $< $(DESTDIR)$(prefix)/bin/torpor

clean:
	rm -rf $(T) $(H) $(A) $(F) $(B)/guests $(B)/rig

-include $(shell find $(T) $(H) $(A) -name '*.d' -type f 2>/dev/null)
