# %% [markdown]
# # Arca from a notebook
# Run against a registry: `npm start` prints its URL and token; export ARCA_URL and ARCA_TOKEN (or run
# `arca login`) and run this file, or paste its cells into Jupyter.

# %%
import os
import tempfile
from pathlib import Path

import arca

client = arca.Client()  # ARCA_URL / ARCA_TOKEN / ARCA_CACHE_DIR, else the `arca login` file
name = f"examples/churn-{os.getpid()}"

# %% [markdown]
# ## Push a directory, pull it back by range

# %%
work = Path(tempfile.mkdtemp())
(work / "model").mkdir()
(work / "model" / "weights.bin").write_bytes(os.urandom(1 << 20))
(work / "model" / "config.json").write_text('{"layers": 3}')
v = client.push(name, work / "model", description="first try", metrics={"auc": 0.91}, publish=True)
print(v.spec, v.status)
out = client.pull(f"{name}:^1", work / "pulled")
print(sorted(p.name for p in out.iterdir()))

# %% [markdown]
# ## Train only when no version was made from these params

# %%
runs = []


def train():
    runs.append(1)
    return {"coef": [0.1, 0.2], "lr": 1.0}


model = client.load_or_generate(f"{name}-model", {"lr": 1.0, "depth": 4}, train)
again = client.load_or_generate(f"{name}-model", {"lr": 1, "depth": 4}, train)  # 1 and 1.0 hash alike
print("loaded without retraining:", again == model and len(runs) == 1)

# %% [markdown]
# ## Any Python object

# %%
client.save({"vocab": ["a", "b"]}, f"{name}-vocab")
print(client.load(f"{name}-vocab:latest"))
client.close()
