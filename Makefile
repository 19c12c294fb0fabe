# make        build raw/ into normalized/*.json and the default database (incremental)
# make test   run every test;  make lint   ruff + mypy;  make schemas   regenerate schemas/
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIPELINE := $(BIN)/pipeline
DB := normalized/duties.db

RAW := $(wildcard raw/*.txt raw/*.tsv raw/*.csv raw/*.html raw/*.htm raw/*.xlsx raw/*.docx)
JSON := $(patsubst raw/%,normalized/%.json,$(basename $(RAW)))
CODE := $(wildcard pipeline/*.py pipeline/vocab/*.toml pipeline/data/*.tsv)

.PHONY: all test lint schemas clean load fuzz serve bench
# With DATABASE_URL set (make DATABASE_URL=postgresql://…), the JSON is loaded there instead.
ifdef DATABASE_URL
all: load
else
all: $(DB)
endif

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# One pattern rule per container: Make picks the one whose raw file exists.
define normalize_rule
normalized/%.json: raw/%.$(1) $(CODE) | $(BIN)/.installed
	$(PIPELINE) normalize --exit-zero $$< -o $$@
endef
$(foreach ext,txt tsv csv html htm xlsx docx,$(eval $(call normalize_rule,$(ext))))

# Unchanged documents are skipped by the loader itself (same sha256 and parser version).
# On failure the database is dated back so that the next make tries again.
$(DB): $(JSON) | $(BIN)/.installed
	$(PIPELINE) load $(JSON) --db sqlite:///$@ || { touch -d @0 $@; exit 1; }
	touch $@

load: $(JSON) | $(BIN)/.installed
	$(PIPELINE) load $(JSON) --db '$(DATABASE_URL)'

test: $(BIN)/.installed
	$(BIN)/pytest

# Browse the database in Datasette, with descriptions, facets and full-text search.
serve: $(DB)
	$(BIN)/datasette serve $(DB) --metadata schemas/datasette-metadata.json --host 127.0.0.1 --port 8001

# Ours against a pandas+BeautifulSoup baseline and a bare floor, in one run (bench/README.md).
bench: $(BIN)/.installed
	$(BIN)/python bench/run.py --towns 100 --large 1000 $(if $(BENCH_POSTGRES),--postgres '$(BENCH_POSTGRES)')

# The hypothesis properties of the readers and the step parser, with 2,000 examples each.
fuzz: $(BIN)/.installed
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest tests/test_fuzz.py tests/test_steps.py -q

lint: $(BIN)/.installed
	$(BIN)/ruff check pipeline tests $(wildcard bench)
	$(BIN)/mypy pipeline

schemas: $(BIN)/.installed
	$(PIPELINE) schemas --out schemas

clean:
	rm -rf $(DB) normalized/*.json.partial
