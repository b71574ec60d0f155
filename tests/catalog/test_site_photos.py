"""Site photos: who may add them, what is accepted, how they are stored and shown."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from portal.catalog import photos
from portal.catalog.models import CatalogChange, SitePhoto
from portal.catalog.uploads import stored_path
from portal.extensions import db
from tests.conftest import login
from tests.scheduling.helpers import site, template, user

pytestmark = pytest.mark.db


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (2400, 1200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (40, 90, 160)).save(out, fmt)
    return out.getvalue()


def upload(client, site_id: int, data: bytes, name: str, caption: str = "展厅一角"):
    return client.post(
        f"/sites/{site_id}/photos",
        data={"photo-photo": (io.BytesIO(data), name), "photo-caption": caption},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_staff_add_a_photo_to_their_own_site_resized_and_renamed(demo, client):
    hall = site("main_hall")
    login(client, "party_school_staff")
    page = upload(client, hall.id, image_bytes(), "../../etc/我的照片.png").get_data(as_text=True)
    assert "照片已上传" in page
    photo = db.session.scalar(select(SitePhoto).where(SitePhoto.site_id == hall.id))
    assert (photo.width, photo.height) == (photos.LARGE, photos.LARGE // 2)
    assert photo.caption == "展厅一角"
    for name in (photo.stored_name, photo.thumb_name):
        assert "照片" not in name and "etc" not in name and name.endswith(".jpg")
        assert stored_path(name).exists()
    small = Image.open(stored_path(photo.thumb_name))
    assert small.format == "JPEG" and max(small.size) == photos.THUMB
    # Shown on the site page and on the route pages that visit the site, to anyone.
    anonymous = client.application.test_client()
    site_page = anonymous.get(f"/sites/{hall.id}").get_data(as_text=True)
    assert f"/site-photos/{photo.id}/small.jpg" in site_page
    route = template("三点一线五日精品环线")
    assert f"/site-photos/{photo.id}/small.jpg" in anonymous.get(f"/routes/{route.id}").get_data(
        as_text=True
    )
    served = anonymous.get(f"/site-photos/{photo.id}/large.jpg")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.data[:3] == b"\xff\xd8\xff"
    assert anonymous.get(f"/site-photos/{photo.id}/original.jpg").status_code == 404
    # The history says who added it.
    change = db.session.scalars(
        select(CatalogChange).where(CatalogChange.item_id == hall.id).order_by(CatalogChange.id)
    ).all()[-1]
    assert change.action == "photo" and change.actor_name == user("party_school_staff").display_name


@pytest.mark.parametrize("username", ["tengchong_college_staff", "organizer", "trainee"])
def test_nobody_else_adds_or_removes_photos_of_a_site(demo, client, username):
    hall = site("main_hall")
    photo = photos.add_photo(hall, user("office"), _storage(image_bytes(), "a.png"))
    db.session.commit()
    login(client, username)
    assert upload(client, hall.id, image_bytes(), "b.png").status_code == 404
    assert client.post(f"/site-photos/{photo.id}/delete").status_code == 404
    assert db.session.scalar(select(db.func.count()).select_from(SitePhoto)) == 1
    with pytest.raises(Exception) as raised:
        photos.add_photo(hall, user(username), _storage(image_bytes(), "c.png"))
    assert type(raised.value).__name__ == "NotFound"


def test_anonymous_visitors_are_sent_to_log_in(demo, client):
    response = client.post(f"/sites/{site('main_hall').id}/photos")
    assert response.status_code == 302 and "/login" in response.location


def _storage(data: bytes, name: str):
    from werkzeug.datastructures import FileStorage

    return FileStorage(io.BytesIO(data), filename=name)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (image_bytes(), "photo.gif", "只能上传 JPG、PNG 或 WebP"),
        (image_bytes("PNG"), "photo.jpg", "文件内容与扩展名不符"),
        (b"<?php echo 1; ?>", "photo.png", "文件内容与扩展名不符"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "photo.png", "无法读取这张照片"),
        (b"", "photo.png", "照片是空文件"),
        (image_bytes(), "photo", "只能上传 JPG、PNG 或 WebP"),
    ],
)
def test_what_is_not_a_photo_is_refused_in_words(demo, client, data, name, message):
    hall = site("main_hall")
    login(client, "party_school_staff")
    page = upload(client, hall.id, data, name).get_data(as_text=True)
    assert message in page
    assert db.session.scalar(select(db.func.count()).select_from(SitePhoto)) == 0


def test_size_and_count_are_bounded(demo, client, monkeypatch):
    hall = site("main_hall")
    login(client, "party_school_staff")
    monkeypatch.setattr(photos, "MAX_BYTES", 1000)
    assert "不能超过 12 MB" in upload(client, hall.id, image_bytes(), "big.png").get_data(
        as_text=True
    )
    monkeypatch.setattr(photos, "MAX_BYTES", 12 * 1024 * 1024)
    monkeypatch.setattr(photos, "MAX_PIXELS", 100)
    assert "像素过大" in upload(client, hall.id, image_bytes(), "wide.png").get_data(as_text=True)
    monkeypatch.setattr(photos, "MAX_PIXELS", 40_000_000)
    monkeypatch.setattr(photos, "MAX_PHOTOS", 1)
    upload(client, hall.id, image_bytes(size=(80, 60)), "one.png")
    assert "最多 1 张照片" in upload(client, hall.id, image_bytes(), "two.png").get_data(
        as_text=True
    )


def test_staff_remove_their_photo_and_its_files(demo, client):
    hall = site("main_hall")
    photo = photos.add_photo(hall, user("office"), _storage(image_bytes("JPEG"), "x.jpeg"))
    db.session.commit()
    files = [stored_path(photo.stored_name), stored_path(photo.thumb_name)]
    assert all(Path(f).exists() for f in files)
    login(client, "party_school_admin")
    page = client.post(f"/site-photos/{photo.id}/delete", follow_redirects=True)
    assert "照片已删除" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count()).select_from(SitePhoto)) == 0
    assert not any(Path(f).exists() for f in files)
