"""A notebook executed in a real Jupyter kernel (nbclient + ipykernel): a local job's ``wait()``
shows step/loss progress, ``plot_metrics()`` shows an ``image/png`` without ``%matplotlib inline``,
and results and dataset loaders render as HTML."""

from __future__ import annotations

import base64
import textwrap

import pytest

pytestmark = [pytest.mark.torch, pytest.mark.slow]

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("torch")
pytest.importorskip("matplotlib")

SETUP = """
import json, os
os.environ.pop("NOVA_FORGE_DISABLE_PROGRESS_BARS", None)  # the test suite turns bars off; a user has them on
from amzn_nova_forge import *
from amzn_nova_forge.dataset import JSONLDatasetLoader
rows = [{"messages": [{"role": "user", "content": f"Say {i}"}, {"role": "assistant", "content": str(i)}]}
        for i in range(32)]
with open("train.jsonl", "w") as f:
    f.write("".join(json.dumps(r) + "\\n" for r in rows))
infra = LocalRuntimeManager(device="cpu", max_steps=6)
customizer = NovaModelCustomizer(model=Model.NOVA_MICRO, method=TrainingMethod.SFT_LORA, infra=infra,
                                 data_s3_path="train.jsonl", output_s3_path="runs")
result = customizer.train(job_name="nb-sft")
"""
WAIT = "info = result.wait(poll_every=0.3, timeout=600)\nprint('final:', info.status.name)"
PLOT = "from amzn_nova_forge.monitor import CloudWatchLogMonitor\nCloudWatchLogMonitor.from_job_result(result).plot_metrics()"
SHOW_RESULT = "result"
SHOW_LOADER = "JSONLDatasetLoader().load('train.jsonl')"


def _outputs(cell):
    return cell.get("outputs", [])


def test_notebook_in_a_real_kernel(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(textwrap.dedent(src)) for src in (SETUP, WAIT, PLOT, SHOW_RESULT, SHOW_LOADER)
    ]
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    nbformat.write(nb, str(tmp_path / "executed.ipynb"))  # kept for debugging a failure
    _setup, wait, plot, show_result, show_loader = nb.cells

    # wait(): a progress bar with step/total and the loss, on stderr (text bar: no ipywidgets here)
    err = "".join(o.get("text", "") for o in _outputs(wait) if o.get("name") == "stderr")
    assert "6/6" in err and "loss=" in err and "status=Completed" in err, err
    out = "".join(o.get("text", "") for o in _outputs(wait) if o.get("name") == "stdout")
    assert "final: COMPLETED" in out

    # plot_metrics(): an image/png display output (not "<Figure size …>")
    pngs = [o["data"]["image/png"] for o in _outputs(plot) if "image/png" in o.get("data", {})]
    assert len(pngs) == 1, _outputs(plot)
    assert base64.b64decode(pngs[0])[:8] == b"\x89PNG\r\n\x1a\n"

    # _repr_html_ of the result and of the loader
    html = next(o["data"]["text/html"] for o in _outputs(show_result) if "text/html" in o.get("data", {}))
    assert "LocalTrainingResult" in html and "Completed" in html and "step 6/6" in html
    html = next(o["data"]["text/html"] for o in _outputs(show_loader) if "text/html" in o.get("data", {}))
    assert "JSONLDatasetLoader" in html and "train.jsonl" in html and "Say 0" in html
