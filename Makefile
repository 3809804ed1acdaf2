# corridor — one non-recursive Makefile.  Each folder adds its sources in its
# own Makefile.local fragment.  Objects go to $(O)/ (build/ by default;
# `make test-asan` uses build-asan/ with AddressSanitizer + UBSan).
#
#   make            build ./corridor
#   make deps       install the Debian packages needed to build and test
#   make test       run every test; ends with "N passed, N failed"
#   make test-asan  the whole suite (unit and integration) under ASan + UBSan
#   make fuzz       every libFuzzer harness for FUZZ_TIME s each (clang; build-fuzz/, docs/fuzzing.md)
#   make run        build, create ./var, import the sample group, say how to search
#   make bench      bench/import.sh (peers: notmuch, public-inbox)
#   make bench-lmtp bench/lmtp.sh (LMTP intake; peers: Mailman 3, public-inbox-mda, notmuch insert)
#   make bench-archive bench/archive.sh (archive build, update, search; peer: MHonArc)
#   make bench-filters  what the filter chain costs per message, stage by stage
#   make bench-fanout bench/fanout.sh (one post to 5,000 members through smtp-sink; peer: mlmmj)
#   make bench-soak bench/soak.sh (the daemon under steady load for SOAK_SECONDS: RSS, errors, p99)
#   make css        rebuild archive-web/static/corridor.css (needs node, npm)

O        ?= build
SANITIZE ?=
PKGS      = gmime-3.0 glib-2.0 gio-2.0 gobject-2.0 sqlite3 json-glib-1.0 libxml-2.0 liblzma zlib libetpan libsystemd libmicrohttpd libcurl libarchive

CC       ?= cc
CXX      ?= c++
OPT      ?= -O2 -g
WARN      = -Wall -Wextra -Wno-unused-parameter
CPPFLAGS += -I. -D_GNU_SOURCE -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 \
            $(shell pkg-config --cflags $(PKGS))
CFLAGS   += -std=gnu11 $(OPT) $(WARN) -pthread
CXXFLAGS += -std=c++17 $(OPT) $(WARN) -pthread $(shell xapian-config --cxxflags)
LDLIBS   += $(filter-out -specs=%,$(shell pkg-config --libs $(PKGS))) \
            $(shell xapian-config --libs) -lstdc++ -lm -pthread

ifeq ($(SANITIZE),1)
  SANFLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  CFLAGS   += $(SANFLAGS)
  CXXFLAGS += $(SANFLAGS)
  LDFLAGS  += $(SANFLAGS)
  OPT       = -O1 -g
endif

core_SRCS   :=
core_CXXSRCS:=
cli_SRCS    :=
bridge_SRCS :=
filters_SRCS:=
web_SRCS    :=
web_GENSRCS :=
digest_SRCS :=
digest_GENSRCS :=
records_SRCS :=
unit_TESTS  :=

all: corridor

include core/Makefile.local
include core/search/Makefile.local
include filters/Makefile.local
include mta-bridge/Makefile.local
include archive-web/Makefile.local
include digest/Makefile.local
include records/Makefile.local
include cli/Makefile.local
include tests/Makefile.local
include fuzz/Makefile.local

core_OBJS := $(core_SRCS:%.c=$(O)/%.o) $(core_CXXSRCS:%.cc=$(O)/%.o)
cli_OBJS  := $(cli_SRCS:%.c=$(O)/%.o)
bridge_OBJS := $(bridge_SRCS:%.c=$(O)/%.o)
filters_OBJS := $(filters_SRCS:%.c=$(O)/%.o)
web_OBJS  := $(web_SRCS:%.c=$(O)/%.o) $(web_GENSRCS:%.c=%.o)
digest_OBJS := $(digest_SRCS:%.c=$(O)/%.o) $(digest_GENSRCS:%.c=%.o)
records_OBJS := $(records_SRCS:%.c=$(O)/%.o)
LIBCORE   := $(O)/libcorridor.a
LIBBRIDGE := $(O)/libbridge.a
LIBWEB    := $(O)/libweb.a
LIBFILTERS := $(O)/libfilters.a
LIBDIGEST := $(O)/libdigest.a
LIBRECORDS := $(O)/librecords.a

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(O)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -MMD -MP -c -o $@ $<

$(LIBCORE): $(core_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBBRIDGE): $(bridge_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBFILTERS): $(filters_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBWEB): $(web_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBDIGEST): $(digest_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBRECORDS): $(records_OBJS) $(O)/records/.keep
	@rm -f $@
	$(AR) rcs $@ $(records_OBJS)

$(O)/records/.keep:
	@mkdir -p $(dir $@) && touch $@

$(O)/corridor: $(cli_OBJS) $(LIBRECORDS) $(LIBBRIDGE) $(LIBWEB) $(LIBDIGEST) $(LIBFILTERS) $(LIBCORE)
	$(CXX) $(LDFLAGS) -o $@ $(cli_OBJS) $(LIBRECORDS) $(LIBBRIDGE) $(LIBWEB) $(LIBDIGEST) $(LIBFILTERS) $(LIBCORE) $(LDLIBS)

corridor: $(O)/corridor
	cp $(O)/corridor corridor.tmp && mv -f corridor.tmp corridor

$(O)/tests/unit/%: tests/unit/%.c $(LIBRECORDS) $(LIBBRIDGE) $(LIBWEB) $(LIBDIGEST) $(LIBFILTERS) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBRECORDS) $(LIBBRIDGE) $(LIBWEB) $(LIBDIGEST) $(LIBFILTERS) $(LIBCORE) $(LDLIBS)

unit: $(unit_TESTS:%=$(O)/tests/unit/%)

flags:
	@echo 'CPPFLAGS=$(CPPFLAGS)'
	@echo 'CFLAGS=$(CFLAGS)'
	@echo 'CXXFLAGS=$(CXXFLAGS)'
	@echo 'LDLIBS=$(LDLIBS)'

deps:
	sh tests/deps.sh

test: corridor unit
	CORRIDOR_BUILD=$(O) sh tests/run.sh

test-asan:
	$(MAKE) O=build-asan SANITIZE=1 build-asan/corridor unit
	CORRIDOR_BUILD=build-asan CORRIDOR_BIN=build-asan/corridor CORRIDOR_ASAN=1 sh tests/run.sh

fuzz:
	@echo 'building the fuzz targets in $(FUZZ_O)/ (clang, ASan, UBSan)'
	@$(MAKE) -s --no-print-directory O=$(FUZZ_O) CC=clang CXX=clang++ FUZZ=1 fuzz-build
	sh fuzz/run.sh $(FUZZ_O) $(FUZZ_TIME) $(FUZZ_TARGETS)

run:
	@sh tests/deps.sh
	@$(MAKE) --no-print-directory corridor
	sh tests/run-demo.sh

bench: corridor
	sh bench/import.sh

bench-lmtp: corridor
	sh bench/lmtp.sh

bench-archive: corridor
	sh bench/archive.sh

bench-fanout: corridor
	sh bench/fanout.sh

bench-soak: corridor
	sh bench/soak.sh

# what the filters cost per message, stage by stage, on one thread
$(O)/bench/filter-cost: bench/filter-cost.c $(LIBFILTERS) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBFILTERS) $(LIBCORE) $(LDLIBS)

bench-filters: $(O)/bench/filter-cost
	$(O)/bench/filter-cost $${CORRIDOR_CORPORA:-../shared/corpora}/linux-mips-2005.mbox

clean:
	rm -rf build build-asan corridor

.PHONY: flags all deps test test-asan fuzz run bench bench-lmtp bench-archive bench-fanout bench-soak clean unit corridor

-include $(core_OBJS:.o=.d) $(cli_OBJS:.o=.d) $(bridge_OBJS:.o=.d) $(web_OBJS:.o=.d) $(digest_OBJS:.o=.d) $(records_OBJS:.o=.d)
