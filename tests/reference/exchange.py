#!/usr/bin/python3
"""The PyTorch side of the weight-exchange tests (tests/train/exchange_test.cpp runs it).

Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision). Networks: torchvision's resnet50 and
an independent ResNet-CIFAR with LDAM-DRW's module names (conv1, bn1, layer1-3 of BasicBlocks, linear).

  exchange.py make DIR ARCH CLASSES CHANNELS SIZE   writes DIR/model.pt (torch.save(model.state_dict())) and
                                                    DIR/io.pt ({"input", "logits"} of the model in eval mode)
  exchange.py check DIR ARCH CLASSES CHANNELS       loads DIR/exported.pt into a fresh network (strict) and
                                                    compares its eval logits on DIR/io_smcl.pt's input with its
                                                    logits: exit 0 within 1e-4, 1 otherwise
  exchange.py variants DIR                          DIR/dp.pt (DataParallel keys), DIR/checkpoint.pt
                                                    ({"state_dict", "epoch"}), DIR/legacy.pt (pre-1.6 format),
                                                    DIR/not_tensors.pt, of a resnet8 with 3 classes
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class BasicBlock(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if stride != 1 or cin != planes else None

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        shortcut = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + shortcut)


class ResNetCifar(nn.Module):
    def __init__(self, depth, classes, channels):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin = 16
        for index, (planes, stride) in enumerate([(16, 1), (32, 2), (64, 2)]):
            blocks = []
            for i in range(n):
                blocks.append(BasicBlock(cin, planes, stride if i == 0 else 1))
                cin = planes
            setattr(self, "layer%d" % (index + 1), nn.Sequential(*blocks))
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return self.linear(out.mean((2, 3)))


def network(arch, classes, channels):
    if arch == "resnet50":
        model = torchvision.models.resnet50(num_classes=classes)
        if channels != 3:
            model.conv1 = nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
        return model
    return ResNetCifar(int(arch[len("resnet"):]), classes, channels)


def randomise_batch_norm(model):
    # Running statistics and affine parameters away from their defaults, so eval mode tests them.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.num_batches_tracked.fill_(7)


def main():
    mode, folder = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    if mode == "make":
        arch, classes, channels, size = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
        model = network(arch, classes, channels)
        randomise_batch_norm(model)
        model.eval()
        x = torch.randn(3, channels, size, size)
        with torch.no_grad():
            logits = model(x)
        torch.save(model.state_dict(), folder + "/model.pt")
        torch.save({"input": x, "logits": logits}, folder + "/io.pt")
    elif mode == "check":
        arch, classes, channels = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        model = network(arch, classes, channels)
        state = torch.load(folder + "/exported.pt")
        model.load_state_dict(state, strict=True)
        model.eval()
        io = torch.load(folder + "/io_smcl.pt")
        with torch.no_grad():
            logits = model(io["input"])
        difference = (logits - io["logits"]).abs().max().item()
        print("max |logits difference| = %.3g" % difference)
        sys.exit(0 if difference < 1e-4 else 1)
    elif mode == "variants":
        model = network("resnet8", 3, 1)
        torch.save(nn.DataParallel(model).state_dict(), folder + "/dp.pt")
        torch.save({"state_dict": model.state_dict(), "epoch": 3, "best_acc": 51.5}, folder + "/checkpoint.pt")
        torch.save(model.state_dict(), folder + "/legacy.pt", _use_new_zipfile_serialization=False)
        torch.save({"conv1.weight": model.conv1.weight.detach(), "note": "text"}, folder + "/not_tensors.pt")
        torch.save(model.state_dict(), folder + "/model.pt")
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
