"""onnxsym.auditing.thumbnails: small JPEG data URIs of the images whose prediction changed
(classifiers) or whose outputs agreed least (other metrics)."""
from __future__ import annotations

from consistency_models import PER_IMAGE_COSINE as PER_COSINE, FakeImages
from onnxsym.auditing.thumbnails import thumbnails


def test_thumbnails_for_continuous_metrics_never_say_changed():
    thumbs = thumbnails(FakeImages(), {"per_image": PER_COSINE})   # metric inferred: cosine (flat is set)
    assert [t["why"] for t in thumbs] == ["lowest"] * 4 and [t["rank"] for t in thumbs] == [1, 2, 3, 4]
    assert all("changed" not in t["detail"] for t in thumbs)
    pixel = [dict(p, flat=None) for p in PER_COSINE]
    thumbs = thumbnails(FakeImages(), {"per_image": pixel})        # pixel agreement: shown as %
    assert thumbs[0]["detail"] == "shift pixel agreement 91.3 % · flip pixel agreement 95.2 %"


def test_views_are_the_compared_crops_with_their_classes():
    import base64
    import io

    from PIL import Image

    per = [{"name": "a.jpg", "shift_agree": 4, "shift_pairs": 5, "flip": 0.0, "top1": 281, "mirror_top1": 285,
            "worst_pair": [[0, 0], [4, 6]], "worst_pair_top1": [281, 282]}]
    doc = {"per_image": per, "metric": "top1_agreement", "input": {"height": 32, "width": 32},
           "base_size": [40, 40], "output": {"shape": ["N", 1000]}}
    thumbs = thumbnails(FakeImages(), doc)
    assert [t["why"] for t in thumbs] == ["shift", "flip"]
    shift, flip = thumbs
    assert [v["caption"] for v in shift["views"]] == ["crop at (0, 0): tabby (281)",
                                                      "crop at (4, 6): tiger cat (282)"]
    assert [v["caption"].split(":")[0] for v in flip["views"]] == ["centre crop", "mirrored"]
    assert flip["views"][1]["caption"].endswith("(285)")
    img = Image.open(io.BytesIO(base64.b64decode(shift["views"][0]["data_uri"].split(",", 1)[1])))
    assert img.size == (32, 32)                    # a crop of the model's input size (under VIEW_SIDE)
    doc["output"]["shape"] = ["N", 10]             # not ImageNet: the index only
    assert thumbnails(FakeImages(), doc)[0]["views"][1]["caption"] == "crop at (4, 6): class 282"
    assert thumbnails(None, doc) == []
