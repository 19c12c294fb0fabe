# make        build raw/ into normalized/*.json and the default database (incremental)
# make test   run every test;  make lint   ruff + mypy;  make schemas   regenerate schemas/
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIPELINE := $(BIN)/pipeline
DB := normalized/duties.db

CODE := $(wildcard pipeline/*.py pipeline/*/*.py pipeline/vocab/*.toml pipeline/data/*.tsv)
# No raw file name ever reaches make or a shell: names with spaces, quotes, `;`, `$` or
# backquotes are safe. The database is stale when raw/ itself (a file added, removed or
# renamed) or anything in it is newer than the database; only a count leaves this shell.
RAW_CHANGED := $(shell find -L raw -maxdepth 1 -newer $(DB) 2>/dev/null | head -c 1 | wc -c)

.PHONY: all test lint schemas clean load fuzz serve bench bench-huge FORCE
# With DATABASE_URL set (make DATABASE_URL=postgresql://…), raw/ is built there instead. The
# URL reaches the pipeline through the environment (make exports command-line variables),
# so the echoed command never shows its password.
ifdef DATABASE_URL
all: load
else
all: $(DB)
endif

# The ocr extra (RapidOCR: onnxruntime, OpenCV; about 300 MB) too, so that the tests of
# scanned PDFs run here and in CI rather than skip.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,ocr]'
	touch $@

# One build reads every file in raw/, writes normalized/<name>.json (committed, diffable)
# and loads what changed: the loader skips a document whose content and parser version
# are already in the database. A bad file is reported by name and never stops the others.
# On failure the database is dated back so that the next make tries again.
ifneq ($(strip $(RAW_CHANGED)),0)
$(DB): FORCE
endif
$(DB): $(CODE) | $(BIN)/.installed
	$(PIPELINE) build raw --normalized normalized --db sqlite:///$@ $(BUILD_OPTIONS) \
		|| { status=$$?; touch -d @0 $@; exit $$status; }
	touch $@

load: | $(BIN)/.installed
	$(PIPELINE) build raw --normalized normalized $(BUILD_OPTIONS)

# Options for every build, e.g. make BUILD_OPTIONS="--timeout 900" for a long scan (OCR).
BUILD_OPTIONS ?=

FORCE:

test: $(BIN)/.installed
	$(BIN)/pytest

# Browse the database in Datasette, with descriptions, facets and full-text search.
serve: $(DB)
	$(BIN)/datasette serve $(DB) --metadata schemas/datasette-metadata.json --host 127.0.0.1 --port 8001

# Every speed target in one table: ours against a pandas+BeautifulSoup baseline and the limit
# (same rows, bulk search index), rounds interleaved (bench/README.md). bench-huge adds the
# 10,000-town run (1.25 GB of text). BENCH_POSTGRES names a scratch database it empties.
BENCH := $(BIN)/python bench/run.py --towns 100 --large 1000 --rounds 3 \
	$(if $(BENCH_POSTGRES),--postgres '$(BENCH_POSTGRES)')
bench: $(BIN)/.installed
	$(BENCH) --catalogue-towns 2000

bench-huge: $(BIN)/.installed
	$(BENCH) --huge 10000

# The hypothesis properties of the readers and the step parser, with 2,000 examples each.
fuzz: $(BIN)/.installed
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest tests/test_fuzz.py tests/test_steps.py -q

lint: $(BIN)/.installed
	$(BIN)/ruff check pipeline tests $(wildcard bench)
	$(BIN)/mypy pipeline

schemas: $(BIN)/.installed
	$(PIPELINE) schemas --out schemas

clean:
	rm -rf $(DB) $(DB)-wal $(DB)-shm normalized/.*.partial
