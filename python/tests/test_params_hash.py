"""The shared vectors (test/vectors/params-hash.json) give the service's paramsHash; Python must match."""
import json
from pathlib import Path

import pytest

from arca import params_hash

VECTORS = json.loads((Path(__file__).parents[2] / "test" / "vectors" / "params-hash.json").read_text("utf-8"))["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector(vector):
    assert params_hash(json.loads(vector["params"]), vector["dependencies"]) == vector["paramsHash"]


def test_python_literals_hash_as_json_does():
    by_name = {v["name"]: v["paramsHash"] for v in VECTORS}
    assert params_hash({"lr": 1.0}) == by_name["float 1.0 hashes as 1"] == params_hash({"lr": 1})
    assert params_hash({"x": -0.0}) == by_name["negative zero"]
    assert params_hash({"x": 1e21}) == by_name["large float 1e21"]
    assert params_hash({"x": 1e-7}) == by_name["small float 1e-7"]


def test_dependency_order_does_not_matter():
    deps = [{"spec": "b:1.0.0", "paramsHash": None}, {"spec": "a:1.0.0", "paramsHash": "0" * 64}]
    assert params_hash({}, deps) == params_hash({}, list(reversed(deps)))


def test_nan_is_refused():
    with pytest.raises(Exception):
        params_hash({"x": float("nan")})


def test_big_integers_round_as_the_services_json_parse_does():
    assert params_hash({"n": 2**60 + 1}) == params_hash({"n": float(2**60)})
