"""Make the sample issue's photographs (sample images, drawn by code, reproducible byte for byte).

Run from anywhere: python issues/issue-2022-04-01/images/make_images.py
Each is a greyscale JPEG of 1800 x 1200 px: at three columns (about 148 mm) that is over 300 ppi.
"""

import random
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

HERE = Path(__file__).parent
W, H = 1800, 1200


def sky(top: int, bottom: int) -> Image.Image:
    """A vertical gradient from ``top`` to ``bottom`` grey."""
    image = Image.new("L", (W, H))
    draw = ImageDraw.Draw(image)
    for y in range(H):
        draw.line([(0, y), (W, y)], fill=round(top + (bottom - top) * y / H))
    return image


def grain(image: Image.Image, seed: int, amount: int = 28) -> Image.Image:
    """Film grain and a soft lens: what makes a drawing read as a photograph in print."""
    random.seed(seed)
    noise = Image.effect_noise((W, H), amount).point(lambda v: v - 128 + 128)
    soft = image.filter(ImageFilter.GaussianBlur(1.6))
    return ImageChops.add(ImageChops.multiply(soft, Image.new("L", (W, H), 255)),
                          noise.point(lambda v: max(0, v - 128)), 1.0, 0).filter(ImageFilter.GaussianBlur(0.6))


def picket_line(seed: int = 1) -> Image.Image:
    """Pickets with placards in front of a hospital block under a grey sky."""
    rng = random.Random(seed)
    image = sky(215, 150)
    draw = ImageDraw.Draw(image)
    draw.rectangle([200, 260, 1650, 900], fill=120)  # the hospital block
    for row in range(6):
        for col in range(14):
            x, y = 250 + col * 100, 300 + row * 95
            draw.rectangle([x, y, x + 60, y + 55], fill=rng.choice((60, 70, 185)))
    draw.rectangle([0, 880, W, H], fill=95)  # the road
    for i in range(26):  # the pickets: heads, bodies, placards
        x = 60 + i * 66 + rng.randint(-20, 20)
        h = rng.randint(330, 420)
        shade = rng.randint(15, 45)
        draw.ellipse([x, H - h - 70, x + 52, H - h - 10], fill=shade)
        draw.rounded_rectangle([x - 14, H - h - 15, x + 66, H], 18, fill=shade)
        if i % 3 == 0:
            px = x - 40
            draw.line([(x + 26, H - h - 10), (x + 26, H - h - 170)], fill=30, width=8)
            draw.rectangle([px, H - h - 330, px + 150, H - h - 170], fill=240, outline=20, width=5)
            for k in range(3):
                draw.rectangle([px + 18, H - h - 305 + k * 45, px + 132 - rng.randint(0, 40),
                                H - h - 285 + k * 45], fill=40)
    return grain(image, seed)


def docks(seed: int = 2) -> Image.Image:
    """Cranes over a container quay at dusk."""
    rng = random.Random(seed)
    image = sky(235, 120)
    draw = ImageDraw.Draw(image)
    draw.ellipse([1250, 220, 1420, 390], fill=250)  # low sun
    draw.rectangle([0, 800, W, H], fill=70)  # water
    for y in range(810, H, 14):
        draw.line([(rng.randint(0, 200), y), (W - rng.randint(0, 200), y)], fill=rng.randint(80, 120), width=3)
    draw.rectangle([0, 700, W, 820], fill=35)  # quay
    for i in range(30):  # containers
        x = 30 + i * 58
        draw.rectangle([x, 620 - (i % 3) * 40, x + 54, 705], fill=rng.choice((40, 55, 75, 95)))
    for c in range(4):  # cranes
        x = 150 + c * 430
        draw.polygon([(x, 700), (x + 30, 700), (x + 60, 200), (x + 30, 200)], fill=20)
        draw.polygon([(x + 150, 700), (x + 180, 700), (x + 150, 200), (x + 120, 200)], fill=20)
        draw.rectangle([x - 120, 180, x + 330, 215], fill=20)
        draw.line([(x + 90, 60), (x - 110, 185)], fill=20, width=7)
        draw.line([(x + 90, 60), (x + 320, 185)], fill=20, width=7)
        draw.rectangle([x + 60, 60, x + 120, 180], fill=25)
    return grain(image, seed)


def meeting(seed: int = 3) -> Image.Image:
    """A public meeting: rows of heads before a platform with a banner."""
    rng = random.Random(seed)
    image = sky(90, 60)
    draw = ImageDraw.Draw(image)
    draw.rectangle([250, 120, 1550, 330], fill=225)  # banner
    for k in range(2):
        draw.rectangle([330, 160 + k * 80, 1470 - k * 300, 205 + k * 80], fill=50)
    draw.rectangle([200, 420, 1600, 520], fill=140)  # platform table
    for i in range(5):  # speakers
        x = 360 + i * 240
        draw.ellipse([x, 300, x + 70, 380], fill=170)
        draw.rounded_rectangle([x - 30, 370, x + 100, 470], 20, fill=45)
    for row in range(5):  # audience, darker towards the camera
        for i in range(22):
            x = -40 + i * 88 + (row % 2) * 44 + rng.randint(-12, 12)
            y = 640 + row * 120
            shade = 150 - row * 28 + rng.randint(-10, 10)
            draw.ellipse([x, y, x + 80, y + 95], fill=max(5, shade))
            draw.rounded_rectangle([x - 25, y + 80, x + 105, y + 260], 30, fill=max(5, shade - 20))
    return grain(image, seed, 22)


def power_station(seed: int = 4) -> Image.Image:
    """Cooling towers and pylons under heavy cloud."""
    rng = random.Random(seed)
    image = sky(170, 205)
    draw = ImageDraw.Draw(image)
    for k in range(40):  # clouds
        x, y = rng.randint(-200, W), rng.randint(-100, 400)
        draw.ellipse([x, y, x + rng.randint(200, 500), y + rng.randint(80, 180)], fill=rng.randint(130, 175))
    draw.rectangle([0, 900, W, H], fill=85)  # fields
    for t in range(3):  # towers: a waisted shape
        x = 300 + t * 420
        draw.polygon([(x, 900), (x + 60, 600), (x + 40, 420), (x + 300, 420), (x + 280, 600), (x + 340, 900)],
                     fill=150 - t * 15)
        draw.ellipse([x + 20, 180, x + 320, 440], fill=225)  # steam
    for p in range(3):  # pylons
        x = 1450 + p * 130
        draw.polygon([(x, 1000), (x + 35, 600 + p * 40), (x + 70, 1000)], outline=25, width=6)
        draw.line([(x - 40, 650 + p * 40), (x + 110, 650 + p * 40)], fill=25, width=6)
    draw.line([(0, 640), (1450, 660), (1580, 700), (W, 740)], fill=40, width=3)
    return grain(image, seed)


def terraced_street(seed: int = 5) -> Image.Image:
    """A street of terraced houses in perspective."""
    rng = random.Random(seed)
    image = sky(200, 175)
    draw = ImageDraw.Draw(image)
    draw.polygon([(0, H), (W, H), (1100, 760), (900, 760)], fill=70)  # road
    for i in range(14):  # houses shrinking into the distance, both sides
        scale = 0.82 ** i
        w, h = 260 * scale, 520 * scale
        for side in (-1, 1):
            x0 = 900 + side * (900 - 880 * (1 - scale)) - (w if side < 0 else 0)
            x0 = x0 if side < 0 else 1100 + (700 - 700 * (1 - scale)) - w * 0
            y1 = 760 + 440 * scale
            shade = 95 + rng.randint(-15, 15) + i * 6
            draw.rectangle([x0, y1 - h, x0 + w, y1], fill=shade)
            draw.rectangle([x0 + w * 0.15, y1 - h * 0.8, x0 + w * 0.45, y1 - h * 0.55], fill=200)
            draw.rectangle([x0 + w * 0.55, y1 - h * 0.45, x0 + w * 0.8, y1], fill=35)
    return grain(image, seed)


def railway(seed: int = 6) -> Image.Image:
    """Track running to the horizon past a signal gantry."""
    rng = random.Random(seed)
    image = sky(225, 185)
    draw = ImageDraw.Draw(image)
    draw.polygon([(0, H), (W, H), (W, 640), (0, 640)], fill=110)  # ballast and banks
    for k in range(60):  # sleepers, closer together towards the horizon
        t = (k / 60) ** 2
        y = 640 + (H - 640) * t
        half = 40 + 760 * t
        draw.line([(900 - half, y), (900 + half, y)], fill=60, width=max(2, round(18 * t)))
    for side in (-1, 1):  # rails
        draw.line([(900 + side * 20, 640), (900 + side * 560, H)], fill=215, width=10)
        draw.line([(900 + side * 60, 640), (900 + side * 1200, H)], fill=200, width=8)
    draw.rectangle([200, 330, 1600, 370], fill=30)  # gantry
    for x in (220, 1560):
        draw.rectangle([x, 330, x + 25, 700], fill=30)
    for k in range(4):
        x = 450 + k * 280
        draw.rectangle([x, 370, x + 70, 520], fill=20)
        draw.ellipse([x + 18, 390 + (k % 2) * 60, x + 52, 424 + (k % 2) * 60], fill=rng.choice((235, 90)))
    return grain(image, seed)


def march(seed: int = 7) -> Image.Image:
    """Marchers behind a banner in a city street."""
    rng = random.Random(seed)
    image = sky(200, 160)
    draw = ImageDraw.Draw(image)
    for b in range(6):  # buildings
        x = b * 320 - 40
        top = rng.randint(80, 260)
        draw.rectangle([x, top, x + 300, 800], fill=rng.randint(110, 150))
        for r in range(8):
            for c in range(4):
                draw.rectangle([x + 30 + c * 65, top + 40 + r * 75, x + 70 + c * 65, top + 90 + r * 75],
                               fill=rng.choice((70, 90, 190)))
    draw.rectangle([0, 800, W, H], fill=105)  # street
    for i in range(40):  # marchers
        x = rng.randint(-20, W - 40)
        y = 860 + rng.randint(0, 200)
        shade = rng.randint(20, 80)
        draw.ellipse([x, y - 160, x + 55, y - 100], fill=shade)
        draw.rounded_rectangle([x - 15, y - 105, x + 70, y + 200], 20, fill=shade)
    draw.rectangle([300, 640, 1500, 880], fill=235, outline=20, width=8)  # the banner
    for k in range(3):
        draw.rectangle([360, 680 + k * 60, 1440 - k * 220, 715 + k * 60], fill=30)
    for x in (300, 1500):
        draw.line([(x, 640), (x, 1100)], fill=30, width=12)
    return grain(image, seed)


def main() -> None:
    """Write the sample photographs."""
    for name, make in (("picket-line.jpg", picket_line), ("docks.jpg", docks), ("meeting.jpg", meeting),
                       ("power-station.jpg", power_station), ("terraced-street.jpg", terraced_street),
                       ("railway.jpg", railway), ("march.jpg", march)):
        make().save(HERE / name, "JPEG", quality=85, optimize=True)


if __name__ == "__main__":
    main()
