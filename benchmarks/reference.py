"""The canonical PyTorch MNIST recipe, written as pytorch/examples `mnist/main.py` writes it.

torchvision's MNIST dataset with ToTensor + Normalize per sample, a
DataLoader, fp32, the loop from main.py. Nothing here is imported from
cnn_lab: this is the baseline the engine is measured against.
"""

from __future__ import annotations

import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torchvision import datasets, transforms


class Net(nn.Module):
    """pytorch/examples' MNIST network."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


class FourConvNet(nn.Module):
    """cnn_lab's default model (convs of 16-32-64-64, max-pool after the 2nd and 4th), written the same way."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1)
        self.conv2 = nn.Conv2d(16, 32, 3, 1, 1)
        self.conv3 = nn.Conv2d(32, 64, 3, 1, 1)
        self.conv4 = nn.Conv2d(64, 64, 3, 1, 1)
        self.fc = nn.Linear(64 * 7 * 7, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.conv3(x))
        x = F.max_pool2d(F.relu(self.conv4(x)), 2)
        x = torch.flatten(x, 1)
        return F.log_softmax(self.fc(x), dim=1)


def loaders(root: str, batch_size: int = 64, test_batch_size: int = 1000):
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    dataset1 = datasets.MNIST(root, train=True, download=False, transform=transform)
    dataset2 = datasets.MNIST(root, train=False, transform=transform)
    train_loader = torch.utils.data.DataLoader(dataset1, batch_size=batch_size, shuffle=True)
    test_loader = torch.utils.data.DataLoader(dataset2, batch_size=test_batch_size)
    return train_loader, test_loader


def train(model, device, train_loader, optimizer, step_times: list[float], max_steps: int | None = None):
    """One epoch of main.py's train(); records when each step ended (max_steps plays main.py's --dry-run)."""
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        if batch_idx == max_steps:
            break
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        step_times.append(time.perf_counter())


def test(model, device, test_loader) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    return correct / len(test_loader.dataset)


def run_main_py(root: str, max_epochs: int = 5, target: float = 0.99, seed: int = 1) -> dict:
    """main.py's own settings (Net, Adadelta lr 1.0, StepLR gamma 0.7, batch 64) until `target` test accuracy."""
    torch.manual_seed(seed)
    device = torch.device("cpu")
    train_loader, test_loader = loaders(root)
    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    train_time, history = 0.0, []
    for epoch in range(1, max_epochs + 1):
        started = time.perf_counter()
        train(model, device, train_loader, optimizer, [])
        train_time += time.perf_counter() - started
        accuracy = test(model, device, test_loader)
        history.append({"epoch": epoch, "train_time_s": round(train_time, 2), "test_accuracy": accuracy})
        scheduler.step()
        if accuracy >= target:
            return {"time_to_target_s": train_time, "epoch": epoch, "history": history}
    return {"time_to_target_s": None, "epoch": None, "history": history}
