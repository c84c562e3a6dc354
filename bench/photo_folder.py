#!/usr/bin/python3
"""photo_folder.py OUT [PER_CLASS] [SEED] - a small real-photo image folder for trying
the main job (train -> eval -> predict) as a new user would: 4 classes of random crops
(position, size, aspect, flip, output size all varied, so files have many sizes) of the
photos Debian ships in python3-skimage and darknet. Needs python3-skimage, python3-pil
and darknet (apt). Not a test dependency: bench/ and closing notes use it."""
import os
import random
import sys

from PIL import Image

SK = "/usr/lib/python3/dist-packages/skimage/data"
DN = "/usr/share/darknet/data"
CLASSES = {
    "animal": [f"{DN}/dog.jpg", f"{DN}/horses.jpg", f"{DN}/eagle.jpg", f"{DN}/giraffe.jpg",
               f"{SK}/chelsea.png"],
    "person": [f"{SK}/astronaut.png", f"{DN}/person.jpg", f"{DN}/scream.jpg"],
    "texture": [f"{SK}/brick.png", f"{SK}/grass.png", f"{SK}/gravel.png"],
    "sky": [f"{SK}/rocket.jpg", f"{SK}/hubble_deep_field.jpg", f"{DN}/kite.jpg",
            f"{SK}/moon.png"],
}


def main():
    out = sys.argv[1]
    per_class = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    for name, files in CLASSES.items():
        os.makedirs(os.path.join(out, name), exist_ok=True)
        photos = [Image.open(f).convert("RGB") for f in files]
        for i in range(per_class):
            img = photos[i % len(photos)]
            w, h = img.size
            side = rng.uniform(0.3, 0.7) * min(w, h)
            aspect = rng.uniform(0.75, 1.33)
            cw, ch = int(side * aspect ** 0.5), int(side / aspect ** 0.5)
            cw, ch = min(cw, w), min(ch, h)
            x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
            crop = img.crop((x, y, x + cw, y + ch))
            if rng.random() < 0.5:
                crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
            scale = rng.uniform(64, 160) / max(cw, ch)
            crop = crop.resize((max(8, int(cw * scale)), max(8, int(ch * scale))), Image.BILINEAR)
            crop.save(os.path.join(out, name, f"{name}_{i:03d}.jpg"), quality=90)


if __name__ == "__main__":
    main()
